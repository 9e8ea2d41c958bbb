"""Webhook rules: URLs, events, backoff, what an asset's event tells, and the pump on fakes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook as Verifier

from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.webhooks.base import Sent
from vodkit.adapters.webhooks.http import public
from vodkit.adapters.webhooks.memory import MemoryWebhookSender, MemoryWebhookStore
from vodkit.domain.asset import Asset
from vodkit.domain.errors import InvalidInput
from vodkit.domain.webhooks import (
    BACKOFF,
    Attempt,
    Delivery,
    after_attempt,
    check_url,
    new_webhook,
)
from vodkit.services.webhooks import WebhookService

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example/h", "http:///nohost", "https://user:pw@x.example/", "http://x.example:99999/",
     "http://x .example/", "https://" + "x" * 2100 + ".example/", "javascript:alert(1)"],
)  # fmt: skip
def test_webhook_urls_are_checked(url: str) -> None:
    with pytest.raises(InvalidInput):
        check_url(url)


def test_events_must_be_known() -> None:
    with pytest.raises(InvalidInput, match=r"asset\.completed"):
        new_webhook("u", "https://x.example/", ["asset.exploded"], "t")
    with pytest.raises(InvalidInput):
        new_webhook("u", "https://x.example/", [], "t")
    hook = new_webhook("u", "https://x.example/", ["asset.failed", "asset.completed"], "t")
    assert hook.events == ("asset.completed", "asset.failed") and hook.secret.startswith("whsec_")
    Verifier(hook.secret)  # a key the Standard Webhooks package accepts


def test_backoff_until_a_day_then_failed_and_a_410_at_once() -> None:
    delivery = Delivery("msg_1", "wh_1", 1, "asset.completed", "{}")
    t, waits = 1000.0, []
    while delivery.state == "pending":
        delivery = after_attempt(delivery, Attempt(at=t, status=500))
        if delivery.state == "pending":
            waits.append(delivery.next_at - t)
            t = delivery.next_at
    assert waits[:5] == list(BACKOFF[:5]) and delivery.state == "failed"
    assert t - 1000.0 <= 24 * 3600 and len(delivery.attempts) == len(waits) + 1
    gone = after_attempt(Delivery("m", "w", 1, "t", "{}"), Attempt(at=1.0, status=410))
    assert gone.state == "failed"
    ok = after_attempt(Delivery("m", "w", 1, "t", "{}"), Attempt(at=1.0, status=204))
    assert ok.state == "delivered"


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", False), ("10.1.2.3", False), ("169.254.169.254", False), ("100.64.0.1", False),
     ("::1", False), ("fd00:ec2::254", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False),
     ("224.0.0.1", False), ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True)],
)  # fmt: skip
def test_only_public_addresses_are_destinations(address: str, allowed: bool) -> None:
    import ipaddress

    assert public(ipaddress.ip_address(address)) is allowed


def test_the_pump_signs_each_delivery_and_retries_with_the_same_id() -> None:
    clock = [time.time()]  # the receiver checks the signed timestamp against its own clock
    catalog, store = MemoryCatalog(), MemoryWebhookStore(clock=lambda: clock[0])
    sender = MemoryWebhookSender([Sent(500), Sent(None, "refused"), Sent(200)])
    service = WebhookService(store, catalog, sender, MemoryMetrics(), now=lambda: clock[0])
    hook = service.subscribe("alice", "https://hooks.example/in", ["asset.created"])
    other = service.subscribe("bob", "https://hooks.example/bob", ["asset.created"])
    catalog.create(Asset.new(asset_id="a1", uploader_id="alice", source_key="uploads/alice/x.mp4",
                             source_bucket="b", source_version="v", filename="x.mp4",
                             file_size=5, now=NOW))  # fmt: skip
    assert service.pump() == 1
    clock[0] += BACKOFF[0]
    assert service.pump() == 1
    clock[0] += BACKOFF[1]
    assert service.pump() == 1 and service.pump() == 0
    assert [url for url, _, _ in sender.sent] == ["https://hooks.example/in"] * 3  # not bob's
    ids = {headers["webhook-id"] for _, _, headers in sender.sent}
    assert len(ids) == 1  # the same webhook-id on every attempt
    _, body, headers = sender.sent[0]  # signed at the clock's time: the first is now
    payload = Verifier(hook.secret).verify(body, headers)
    assert payload["type"] == "asset.created" and payload["data"]["assetId"] == "a1"
    assert "sourceKey" not in payload["data"]
    (delivery,) = service.deliveries(hook)
    assert delivery.state == "delivered" and [a.status for a in delivery.attempts] == [
        500,
        None,
        200,
    ]
    assert service.deliveries(other) == []
    json.loads(body)
