"""A bus for unit tests: delivers in process and remembers what was published."""

from __future__ import annotations

from .inprocess import InProcessEventBus


class RecordingEventBus(InProcessEventBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[object] = []

    def publish(self, event: object) -> None:
        self.published.append(event)
        super().publish(event)

    def of_type(self, event_type: type) -> list[object]:
        return [e for e in self.published if isinstance(e, event_type)]
