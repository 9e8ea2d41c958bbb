"""Dead-lettered messages of every queue: listed with their reasons, and redriven."""

from __future__ import annotations

from collections.abc import Mapping

from ..adapters.queue.base import DeadLetter, Queue
from ..domain.errors import NotFound


class DeadLetters:
    def __init__(self, queues: Mapping[str, Queue]) -> None:
        self.queues = queues

    def letters(self) -> list[DeadLetter]:
        return [letter for queue in self.queues.values() for letter in queue.dead_letters()]

    def redrive(self, ids: list[str] | None = None, queue: str | None = None) -> int:
        """Move dead letters (all, or ``ids``; of every queue, or ``queue``) back; how many."""
        if queue is not None and queue not in self.queues:
            raise NotFound(f"no queue {queue!r}; the queues are {', '.join(self.queues)}")
        return sum(q.redrive(ids) for name, q in self.queues.items() if queue in (None, name))
