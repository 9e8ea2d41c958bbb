"""An SQS queue and its dead-letter queue (AWS footprint).

On AWS the queues are drained by Lambda event source mappings, and SQS moves
a message to the DLQ after ``maxReceiveCount`` receives (the template's
redrive policy). vodkit uses this adapter to send, to report depths, and to
list and redrive dead letters (``vodkit dlq``). Two differences from the
port's strict semantics are SQS's own: a standard queue has no
deduplication (``dedup_id`` is ignored; the asset id makes a duplicate a
no-op downstream), and it keeps no note of why a receive failed.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

from botocore.exceptions import ClientError

from ...domain.errors import LeaseLost
from ..aws import aws_call, error_code
from .base import DeadLetter, Message, QueueDepth

PEEK_SECONDS = 30  # how long listing the DLQ hides its messages from anyone else
STALE_RECEIPT = {"ReceiptHandleIsInvalid", "InvalidParameterValue", "MessageNotInflight"}


def _stale(exc: ClientError) -> bool:
    return error_code(exc).removeprefix("AWS.SimpleQueueService.") in STALE_RECEIPT


class SqsQueue:
    def __init__(
        self, client: Any, url: str, *, dlq_url: str | None = None, name: str = ""
    ) -> None:
        self.client = client
        self.url = url
        self.dlq_url = dlq_url
        self.name = name or url.rstrip("/").rsplit("/", 1)[-1]

    @functools.cached_property
    def _settings(self) -> dict[str, str]:
        """The queue's own attributes, read on first use: wiring connects to nothing."""
        return self._attributes(self.url, "VisibilityTimeout", "RedrivePolicy")

    @property
    def visibility_timeout(self) -> float:
        return float(self._settings.get("VisibilityTimeout", 30))

    @property
    def max_receives(self) -> int:
        """SQS dead-letters a message on the receive after maxReceiveCount: that many it had."""
        return int(json.loads(self._settings.get("RedrivePolicy", "{}")).get("maxReceiveCount", 0))

    @aws_call
    def _attributes(self, url: str, *names: str) -> dict[str, str]:
        reply = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))
        attributes: dict[str, str] = reply.get("Attributes", {})
        return attributes

    @aws_call
    def send(self, body: str, *, dedup_id: str | None = None, delay: float = 0) -> str:
        reply = self.client.send_message(
            QueueUrl=self.url, MessageBody=body, DelaySeconds=min(900, round(delay))
        )
        return str(reply["MessageId"])

    @aws_call
    def _receive(self, url: str, count: int, wait: float, visibility: int | None) -> list[Any]:
        request: dict[str, Any] = {
            "QueueUrl": url,
            "MaxNumberOfMessages": max(1, min(10, count)),
            "WaitTimeSeconds": min(20, round(wait)),
            "AttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        }
        if visibility is not None:
            request["VisibilityTimeout"] = visibility
        messages: list[Any] = self.client.receive_message(**request).get("Messages", [])
        return messages

    def receive(self, *, max_messages: int = 1, wait: float = 0) -> list[Message]:
        return [
            Message(
                id=m["MessageId"],
                body=m["Body"],
                receipt=m["ReceiptHandle"],
                receive_count=int(m["Attributes"]["ApproximateReceiveCount"]),
                sent_at=int(m["Attributes"]["SentTimestamp"]) / 1000,
            )
            for m in self._receive(self.url, max_messages, wait, None)
        ]

    @aws_call
    def _visibility(self, url: str, receipt: str, seconds: float) -> None:
        try:
            self.client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=min(43200, round(seconds))
            )
        except ClientError as exc:
            if _stale(exc):
                raise LeaseLost("the message's lease has expired") from exc
            raise

    @aws_call
    def delete(self, receipt: str) -> None:
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
        except ClientError as exc:
            if _stale(exc):
                raise LeaseLost("the message's lease has expired") from exc
            raise

    def extend(self, receipt: str, seconds: float) -> None:
        self._visibility(self.url, receipt, seconds)

    def release(self, receipt: str, *, delay: float = 0, error: str = "") -> None:
        self._visibility(self.url, receipt, delay)

    def _peek_dead(self) -> list[Any]:
        """Every message in the DLQ, hidden for PEEK_SECONDS: give them back when done."""
        if not self.dlq_url:
            return []
        seen: dict[str, Any] = {}
        while batch := self._receive(self.dlq_url, 10, 0, PEEK_SECONDS):
            fresh = [m for m in batch if m["MessageId"] not in seen]
            seen.update((m["MessageId"], m) for m in batch)
            if not fresh:
                break
        return list(seen.values())

    def _unhide(self, messages: list[Any]) -> None:
        for m in messages:
            self._visibility(self.dlq_url or "", m["ReceiptHandle"], 0)

    def dead_letters(self) -> list[DeadLetter]:
        messages = self._peek_dead()
        self._unhide(messages)
        now = time.time()
        return [
            DeadLetter(
                id=m["MessageId"],
                queue=self.name,
                body=m["Body"],
                receive_count=self.max_receives,
                sent_at=int(m["Attributes"]["SentTimestamp"]) / 1000,
                dead_at=now,
                last_error="",
            )
            for m in messages
        ]

    @aws_call
    def redrive(self, ids: list[str] | None = None) -> int:
        messages = self._peek_dead()
        chosen = [m for m in messages if ids is None or m["MessageId"] in ids]
        for m in chosen:
            self.client.send_message(QueueUrl=self.url, MessageBody=m["Body"])
            self.client.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=m["ReceiptHandle"])
        self._unhide([m for m in messages if m not in chosen])
        return len(chosen)

    def depth(self) -> QueueDepth:
        names = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        main = self._attributes(self.url, *names)
        dead = self._attributes(self.dlq_url, names[0]) if self.dlq_url else {}
        return QueueDepth(
            visible=int(main.get(names[0], 0)),
            in_flight=int(main.get(names[1], 0)),
            dead=int(dead.get(names[0], 0)),
        )
