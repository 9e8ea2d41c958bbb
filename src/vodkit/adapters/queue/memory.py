"""An in-memory queue for unit tests, with an injectable clock."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ...domain.errors import LeaseLost
from .base import MAX_RECEIVES, DeadLetter, Message, QueueDepth


@dataclass
class _Entry:
    id: str
    body: str
    dedup_id: str | None
    sent_at: float
    visible_at: float
    receive_count: int = 0
    receipt: str = ""
    last_error: str = ""
    dead_at: float | None = None


class MemoryQueue:
    def __init__(
        self,
        name: str = "memory",
        *,
        visibility_timeout: float = 60.0,
        max_receives: int = MAX_RECEIVES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def send(self, body: str, *, dedup_id: str | None = None, delay: float = 0) -> str:
        with self._lock:
            if dedup_id is not None:
                for entry in self._entries.values():
                    if entry.dedup_id == dedup_id:
                        return entry.id
            now = self.clock()
            entry = _Entry(str(uuid.uuid4()), body, dedup_id, now, now + delay)
            self._entries[entry.id] = entry
            return entry.id

    def receive(self, *, max_messages: int = 1, wait: float = 0) -> list[Message]:
        deadline = self.clock() + wait
        while True:
            with self._lock:
                messages = self._claim(max_messages)
            if messages or self.clock() >= deadline:
                return messages
            time.sleep(0.01)

    def _claim(self, max_messages: int) -> list[Message]:
        now = self.clock()
        ready = sorted(
            (e for e in self._entries.values() if e.dead_at is None and e.visible_at <= now),
            key=lambda e: (e.visible_at, e.sent_at),
        )
        claimed: list[Message] = []
        for entry in ready:
            if len(claimed) == max_messages:
                break
            if entry.receive_count >= self.max_receives:
                entry.dead_at = now
                continue
            entry.receive_count += 1
            entry.receipt = uuid.uuid4().hex
            entry.visible_at = now + self.visibility_timeout
            claimed.append(
                Message(entry.id, entry.body, entry.receipt, entry.receive_count, entry.sent_at)
            )
        return claimed

    def _holder(self, receipt: str) -> _Entry:
        for entry in self._entries.values():
            if entry.receipt == receipt and entry.dead_at is None:
                return entry
        raise LeaseLost("the receipt is stale: the message was redelivered or deleted")

    def delete(self, receipt: str) -> None:
        with self._lock:
            del self._entries[self._holder(receipt).id]

    def extend(self, receipt: str, seconds: float) -> None:
        with self._lock:
            self._holder(receipt).visible_at = self.clock() + seconds

    def release(self, receipt: str, *, delay: float = 0, error: str = "") -> None:
        with self._lock:
            entry = self._holder(receipt)
            entry.visible_at = self.clock() + delay
            entry.receipt = ""
            entry.last_error = error

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            return [
                DeadLetter(
                    e.id, self.name, e.body, e.receive_count, e.sent_at, e.dead_at, e.last_error
                )
                for e in self._entries.values()
                if e.dead_at is not None
            ]

    def redrive(self, ids: list[str] | None = None) -> int:
        with self._lock:
            moved = 0
            for entry in self._entries.values():
                if entry.dead_at is not None and (ids is None or entry.id in ids):
                    entry.dead_at = None
                    entry.receive_count = 0
                    entry.visible_at = self.clock()
                    moved += 1
            return moved

    def depth(self) -> QueueDepth:
        now = self.clock()
        with self._lock:
            live = [e for e in self._entries.values() if e.dead_at is None]
            return QueueDepth(
                visible=sum(e.visible_at <= now for e in live),
                in_flight=sum(e.visible_at > now for e in live),
                dead=len(self._entries) - len(live),
                oldest_age=max(0.0, now - min(e.sent_at for e in live)) if live else None,
            )
