"""Synchronous, in-process delivery (embedded footprint, and per cluster worker)."""

from __future__ import annotations

import threading
from collections import defaultdict

from .base import Handler


class InProcessEventBus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, event_type: type, handler: Handler) -> None:
        with self._lock:
            self._handlers[event_type].append(handler)

    def publish(self, event: object) -> None:
        with self._lock:
            handlers = list(self._handlers.get(type(event), ()))
        for handler in handlers:
            handler(event)
