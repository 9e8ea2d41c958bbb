"""The Lambda handlers: thin entrypoints over the ingest orchestrator and status processor.

Both are fed by SQS event source mappings with ``ReportBatchItemFailures``:
a record whose handling raised is reported, so SQS keeps it, retries it and,
after ``maxReceiveCount`` receives, dead-letters it; the others are deleted
(only after their catalog writes). A malformed body fails like any other error,
so it reaches the DLQ instead of being dropped. Services are built once per
container, on the first invocation, from the environment the template sets.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from ..domain.events import JobStateChanged
from ..footprints.aws import ingest_orchestrator, lambda_status_processor
from ..services.messages import decode

log = logging.getLogger("vodkit.lambda")
logging.getLogger().setLevel(logging.INFO)


@functools.cache
def _ingest() -> Any:
    return ingest_orchestrator()


@functools.cache
def _status() -> Any:
    return lambda_status_processor().bus


def _each_record(event: Any, handle: Any) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not an SQS batch: no Records list")  # the whole batch is retried
    failures = []
    for record in records:
        message_id = str(record.get("messageId", "")) if isinstance(record, dict) else ""
        try:
            handle(record["body"])
        except Exception:
            log.exception("message %s failed; SQS will retry it, then dead-letter it", message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def ingest(event: Any, context: Any = None) -> dict[str, list[dict[str, str]]]:
    """S3 "Object Created" events (from EventBridge, through SQS) -> assets and jobs."""
    return _each_record(event, lambda body: _ingest().handle_message(body))


def status(event: Any, context: Any = None) -> dict[str, list[dict[str, str]]]:
    """MediaConvert "Job State Change" events (through SQS) -> catalog."""
    return _each_record(
        event, lambda body: _status().publish(JobStateChanged.from_eventbridge(decode(body)))
    )
