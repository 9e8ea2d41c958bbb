"""The queue port, with SQS's semantics.

A received message is invisible for the visibility timeout (its lease); the
consumer extends the lease while it works and deletes the message only after
its work is committed. A message received ``max_receives`` times without being
deleted moves to the dead-letter queue on its next receive, where it can be
listed and redriven. Receipts are per delivery: a worker whose lease expired
cannot delete a message someone else now holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

MAX_RECEIVES = 3


@dataclass(frozen=True)
class Message:
    id: str
    body: str
    receipt: str
    receive_count: int
    sent_at: float


@dataclass(frozen=True)
class DeadLetter:
    id: str
    queue: str
    body: str
    receive_count: int
    sent_at: float
    dead_at: float
    last_error: str


@dataclass(frozen=True)
class QueueDepth:
    visible: int
    in_flight: int
    dead: int
    # seconds the oldest live message has waited, if known (a reading, not part of the counts)
    oldest_age: float | None = field(default=None, compare=False)


class Queue(Protocol):
    """What every queue does: take messages, say how deep it is, keep its dead letters."""

    name: str

    def send(self, body: str, *, dedup_id: str | None = None, delay: float = 0) -> str:
        """Enqueue; a ``dedup_id`` already live in this queue or its DLQ is a no-op where the
        queue can tell (SQLite, memory); elsewhere idempotency is the handlers'. The id."""
        ...

    def dead_letters(self) -> list[DeadLetter]: ...

    def redrive(self, ids: list[str] | None = None) -> int:
        """Move dead letters (all, or ``ids``) back with a fresh receive count."""
        ...

    def depth(self) -> QueueDepth: ...


class ConsumableQueue(Queue, Protocol):
    """A queue vodkit's own consumer drains (``services.consumer``); Celery drains the
    cluster's, and Lambda's event source mappings the stack's SQS queues."""

    @property
    def visibility_timeout(self) -> float:
        """How long a received message stays invisible (its lease), seconds."""
        ...

    def receive(self, *, max_messages: int = 1, wait: float = 0) -> list[Message]: ...

    def delete(self, receipt: str) -> None:
        """Acknowledge; LeaseLost if the receipt is no longer current."""
        ...

    def extend(self, receipt: str, seconds: float) -> None:
        """Make the message invisible for ``seconds`` from now; LeaseLost if stale."""
        ...

    def release(self, receipt: str, *, delay: float = 0, error: str = "") -> None:
        """Give the message back (visible after ``delay``), noting why it failed."""
        ...
