"""The event bus port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Handler = Callable[[Any], None]


class EventBus(Protocol):
    def subscribe(self, event_type: type, handler: Handler) -> None: ...

    def publish(self, event: object) -> None:
        """Deliver to every subscriber of the event's type; a subscriber's error propagates,
        so the transport that carried the work retries it."""
        ...
