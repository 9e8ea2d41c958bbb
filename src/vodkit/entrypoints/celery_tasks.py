"""The cluster's Celery tasks: ``vodkit.ingest`` and ``vodkit.transcode``, thin over the services.

A failed task is tried again after a backoff (its message requeued, counted by the
broker), and dead-lettered by the task itself with the error as its reason on its
third failure; bad input is no failure here (the asset ends FAILED with the reason,
the message is acknowledged). ``ingest`` is acknowledged once done; ``transcode`` as
it starts, its job held by a lease in the catalog instead (``services.leases``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.exceptions import Reject

log = logging.getLogger("vodkit.celery")
Handler = Callable[[str], object]
DeadLetter = Callable[[str, str, str, str, int], None]  # queue, task id, body, error, attempts


def register(
    app: Celery,
    handlers: Callable[[], dict[str, Handler]],
    *,
    backoff: float,
    deliveries: int,
    dead_letter: DeadLetter,
) -> None:
    """Define the tasks on ``app``; ``handlers()`` builds the services, once per process;
    a message that failed ``deliveries`` times goes to ``dead_letter``."""
    built: dict[str, Handler] = {}

    def handler(queue: str) -> Handler:
        if not built:
            built.update(handlers())
        return built[queue]

    def run(task: Any, queue: str, body: str, attempt: int) -> None:
        """Handle ``body``; on its ``attempt``-th failure, dead-letter it with the error."""
        try:
            handler(queue)(body)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if attempt >= deliveries:
                log.error("%s %s failed %d times, dead-lettered: %s", queue, task.request.id,
                          attempt, error)  # fmt: skip
                dead_letter(queue, task.request.id, body, error, attempt)
                return
            log.warning("%s %s failed (attempt %d), again shortly: %s", queue, task.request.id,
                        attempt, error, exc_info=True)  # fmt: skip
            raise Retry(error, min(300.0, backoff * 2 ** (attempt - 1))) from exc

    @app.task(name="vodkit.ingest", bind=True, acks_late=True, reject_on_worker_lost=True)
    def ingest(self: Any, body: str) -> None:
        # acknowledged once the catalog has it: a worker that dies hands it back, counted
        try:
            run(self, "ingest", body, int(self.request.get("x-delivery-count") or 0) + 1)
        except Retry as again:
            time.sleep(again.delay)
            raise Reject(again.error, requeue=True) from again

    @app.task(name="vodkit.transcode", bind=True, acks_late=False)
    def transcode(self: Any, body: str) -> None:
        # acknowledged as it starts: the job's lease, not the delivery, keeps it (leases.py)
        try:
            run(self, "transcode", body, self.request.retries + 1)
        except Retry as again:
            # whole seconds: the broker's delayed delivery (on quorum queues) takes no less
            countdown = max(1, round(again.delay))
            raise self.retry(countdown=countdown, max_retries=deliveries) from again


class Retry(Exception):
    def __init__(self, error: str, delay: float) -> None:
        super().__init__(error)
        self.error = error
        self.delay = delay
