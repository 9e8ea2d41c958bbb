"""Webhooks (Standard Webhooks): subscribe, and deliver every status change at least once.

The catalog writes each status change to its outbox in the same transaction as
the change (``domain.outbox``). A worker turns new outbox events into one
delivery per interested webhook (``fan_out``), then sends due deliveries,
signed (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), retrying
with backoff (``domain.webhooks``). A crash anywhere loses nothing: at worst a
delivery is sent again, with the same ``webhook-id``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..adapters.catalog.base import EventLog
from ..adapters.metrics.base import Metrics
from ..adapters.webhooks.base import WebhookSender, WebhookStore, attempt_of, missing
from ..domain.asset import Asset
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import ConfigError, InvalidInput, NotFound
from ..domain.outbox import AssetEvent
from ..domain.view import AssetView
from ..domain.webhooks import (
    BACKOFF,
    Delivery,
    Webhook,
    after_attempt,
    new_webhook,
)

log = logging.getLogger(__name__)
PERIOD = 0.5
Links = Callable[[Asset], dict[str, Any] | None]  # an asset's playback URLs, where known


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        events: EventLog,
        sender: WebhookSender,
        metrics: Metrics,
        *,
        links: Links = lambda asset: None,
        lease: float = 30.0,
        backoff: tuple[float, ...] = BACKOFF,
        clock: Clock = utcnow,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.events = events
        self.sender = sender
        self.metrics = metrics
        self.links = links
        self.lease = lease  # how long a sender holds a delivery: longer than one attempt
        self.backoff = backoff
        self.clock = clock
        self.now = now

    # subscriptions -------------------------------------------------------

    def subscribe(self, uploader_id: str, url: str, events: list[str]) -> Webhook:
        webhook = new_webhook(uploader_id, url, events, isoformat(self.clock()))
        if reason := self.sender.refuses(url):
            raise InvalidInput(f"the webhook URL {reason}")
        self.store.add(webhook)
        return webhook

    def of(self, uploader_id: str | None) -> list[Webhook]:
        return self.store.of(uploader_id)

    def get(self, webhook_id: str, visible: Callable[[str], bool]) -> Webhook:
        """The webhook, if ``visible(its uploader)``; another uploader's is as absent."""
        webhook = self.store.get(webhook_id)
        if webhook is None or not visible(webhook.uploader_id):
            raise NotFound(f"no webhook {webhook_id}")
        return webhook

    def remove(self, webhook: Webhook) -> None:
        self.store.remove(webhook.webhook_id)

    def deliveries(self, webhook: Webhook, limit: int = 100) -> list[Delivery]:
        return self.store.deliveries(webhook.webhook_id, limit)

    # delivery --------------------------------------------------------------

    def render(self, event: AssetEvent, webhook: Webhook) -> str:
        asset = Asset.from_item(event.asset)
        data = AssetView(asset, playback=self.links(asset)).public()  # as the API shows it
        return json.dumps({"type": event.type, "timestamp": event.at, "data": data})

    def pump(self) -> int:
        """One pass: new events to deliveries, then every due delivery sent once."""
        self.store.fan_out(lambda seq: self.events.events_after(seq, 500), self.render)
        try:  # before a claim: an install that cannot send leaves deliveries to one that can
            from standardwebhooks import Webhook as Signer  # (its extras bring httpx too)
        except ModuleNotFoundError as exc:
            raise missing(exc) from None
        sent = 0
        while (delivery := self.store.claim(self.now(), self.lease)) is not None:
            self._send(delivery, Signer)
            sent += 1
        return sent

    def _send(self, delivery: Delivery, Signer: type[Any]) -> None:
        webhook = self.store.get(delivery.webhook_id)
        if webhook is None or webhook.disabled:
            self.store.record(replace(delivery, state="failed"))  # its endpoint is gone
            return
        stamp = datetime.fromtimestamp(self.now(), UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "vodkit-webhooks",
            "webhook-id": delivery.delivery_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Signer(webhook.secret).sign(
                delivery.delivery_id, stamp, delivery.payload
            ),
        }
        sent = self.sender.send(webhook.url, delivery.payload.encode(), headers)
        done = after_attempt(delivery, attempt_of(sent, self.now()), self.backoff)
        self.store.record(done)
        if sent.status == 410:
            self.store.disable(webhook.webhook_id, "the receiver answered 410 Gone")
            outcome = "disabled"
        else:
            outcome = {"delivered": "delivered", "failed": "failed"}.get(done.state, "retried")
        self.metrics.increment("WebhookDeliveries", outcome=outcome)
        log.info("webhook %s %s: %s (%s)", webhook.webhook_id, delivery.delivery_id, outcome,
                 sent.status or sent.error)  # fmt: skip

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` (a worker's background task)."""
        while not stop.is_set():
            try:
                self.pump()
            except ConfigError as exc:  # this install cannot send: a worker that can will
                log.warning("webhook deliveries wait: %s", exc)
                stop.wait(self.lease)
            except Exception:  # a busy database: the next pass catches up
                log.exception("webhook delivery pass failed")
            stop.wait(PERIOD)
