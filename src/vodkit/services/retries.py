"""One policy for a message whose handler failed, whichever queue holds it.

The SQLite consumer (``services.consumer``) and the cluster's Celery tasks
(``entrypoints.celery_worker``) both ask it how long to wait before the next
attempt, and whether the message has had its last attempt and goes to the
dead-letter queue with its error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..adapters.queue.base import MAX_RECEIVES
from ..domain.errors import LeaseLost

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retries:
    backoff: float = 2.0  # the first retry's delay, doubled on every further attempt
    max_backoff: float = 300.0
    attempts: int = MAX_RECEIVES  # failures before the message is dead-lettered

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th (1-based) failed attempt."""
        return min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))

    def exhausted(self, attempt: int) -> bool:
        """True once the ``attempt``-th failure was the last one allowed."""
        return attempt >= self.attempts

    def failed(self, queue: str, message_id: str, attempt: int, exc: Exception) -> str:
        """Log a failed attempt as what happens next; the error as the message keeps it."""
        error = f"{type(exc).__name__}: {exc}"
        if self.exhausted(attempt):
            log.error(
                "%s message %s failed %d times, dead-lettered: %s",
                queue, message_id, attempt, error,
            )  # fmt: skip
        else:
            log.warning(
                "%s message %s failed (attempt %d), retrying in %.1f s: %s",
                queue, message_id, attempt, self.delay(attempt), error,
                exc_info=not isinstance(exc, LeaseLost),
            )  # fmt: skip
        return error


DEFAULT = Retries()
