"""Webhook fakes for unit tests: a store in dictionaries, a sender that answers from a script."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from ...domain.outbox import AssetEvent
from ...domain.webhooks import Delivery, Webhook, delivery_id
from .base import Render, Sent


class MemoryWebhookSender:
    def __init__(self, answers: list[Sent] | None = None) -> None:
        self.answers = list(answers or [])
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Sent:
        self.sent.append((url, body, headers))
        return self.answers.pop(0) if self.answers else Sent(200)

    def refuses(self, url: str) -> str:
        return ""


class MemoryWebhookStore:
    """Subscriptions and deliveries in dictionaries, under one lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries_by_id: dict[str, Delivery] = {}
        self.leases: dict[str, float] = {}
        self.cursor = 0
        self.clock = clock
        self._lock = threading.RLock()

    def add(self, webhook: Webhook) -> None:
        with self._lock:
            self.webhooks[webhook.webhook_id] = webhook

    def get(self, webhook_id: str) -> Webhook | None:
        return self.webhooks.get(webhook_id)

    def of(self, uploader_id: str | None) -> list[Webhook]:
        found = [w for w in self.webhooks.values() if uploader_id in (None, w.uploader_id)]
        return sorted(found, key=lambda w: (w.created_at, w.webhook_id))

    def remove(self, webhook_id: str) -> bool:
        with self._lock:  # its deliveries go with it, as the SQL stores' do
            for key in [k for k, d in self.deliveries_by_id.items() if d.webhook_id == webhook_id]:
                del self.deliveries_by_id[key]
                self.leases.pop(key, None)
            return self.webhooks.pop(webhook_id, None) is not None

    def disable(self, webhook_id: str, reason: str) -> None:
        with self._lock:
            if webhook_id in self.webhooks:
                self.webhooks[webhook_id] = replace(self.webhooks[webhook_id], disabled=reason)

    def fan_out(self, read: Callable[[int], Sequence[AssetEvent]], render: Render) -> int:
        made = 0
        with self._lock:
            events = read(self.cursor)
            for event in events:
                for webhook in self.webhooks.values():
                    wanted = (
                        webhook.uploader_id == event.uploader_id and event.type in webhook.events
                    )
                    key = delivery_id(event.event_id, webhook.webhook_id)
                    if not wanted or webhook.disabled or key in self.deliveries_by_id:
                        continue
                    if (body := render(event, webhook)) is not None:
                        now = self.clock()
                        self.deliveries_by_id[key] = Delivery(
                            key, webhook.webhook_id, event.seq, event.type, body,
                            next_at=now, created_at=now,
                        )  # fmt: skip
                        made += 1
            if events:
                self.cursor = events[-1].seq
        return made

    def claim(self, now: float, lease: float) -> Delivery | None:
        with self._lock:
            due = [
                d for d in self.deliveries_by_id.values()
                if d.state == "pending" and d.next_at <= now
                and self.leases.get(d.delivery_id, 0) <= now
            ]  # fmt: skip
            if not due:
                return None
            chosen = min(due, key=lambda d: d.next_at)
            self.leases[chosen.delivery_id] = now + lease
            return chosen

    def record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries_by_id[delivery.delivery_id] = delivery
            self.leases.pop(delivery.delivery_id, None)

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[Delivery]:
        found = [d for d in self.deliveries_by_id.values() if d.webhook_id == webhook_id]
        return sorted(found, key=lambda d: (d.created_at, d.event_seq), reverse=True)[:limit]
