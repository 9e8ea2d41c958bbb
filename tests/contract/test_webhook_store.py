"""One contract, every webhook store: the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from vodkit.adapters.catalog.postgres import catalog_database as postgres_database
from vodkit.adapters.catalog.sqlite import catalog_database as sqlite_database
from vodkit.adapters.webhooks.base import WebhookStore
from vodkit.adapters.webhooks.memory import MemoryWebhookStore
from vodkit.adapters.webhooks.sql import SqlWebhookStore
from vodkit.domain.outbox import AssetEvent
from vodkit.domain.webhooks import Attempt, Delivery, Webhook, delivery_id

NOW = 1_000.0


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebhookStore]:
    clock = lambda: NOW  # noqa: E731
    if request.param == "memory":
        yield MemoryWebhookStore(clock=clock)
    elif request.param == "postgres":
        db = postgres_database(request.getfixturevalue("postgres_dsn"))
        yield SqlWebhookStore(db, clock=clock)
        db.close()
    else:
        yield SqlWebhookStore(sqlite_database(tmp_path / "catalog.sqlite3"), clock=clock)


def hook(webhook_id: str, uploader: str = "alice", minute: int = 0, **fields: object) -> Webhook:
    return Webhook(
        webhook_id=webhook_id,
        uploader_id=uploader,
        url=f"https://hooks.example/{webhook_id}",
        events=("asset.completed", "asset.failed"),
        secret="whsec_c2VjcmV0",
        created_at=f"2026-01-01T00:{minute:02d}:00Z",
        **fields,  # type: ignore[arg-type]
    )


def event(seq: int, type: str = "asset.completed", uploader: str = "alice") -> AssetEvent:
    return AssetEvent(
        type, f"a{seq}", uploader, "2026-01-01T00:00:00Z", {"assetId": f"a{seq}"},
        event_id=f"evt_{seq}", seq=seq,
    )  # fmt: skip


class Outbox:
    """The catalog's outbox as fan_out reads it; remembers the cursors it was read from."""

    def __init__(self, events: list[AssetEvent]) -> None:
        self.events = events
        self.reads: list[int] = []

    def __call__(self, after: int) -> Sequence[AssetEvent]:
        self.reads.append(after)
        return [e for e in self.events if e.seq > after]


def body(e: AssetEvent, w: Webhook) -> str:
    return f"{e.event_id}->{w.webhook_id}"


def test_webhooks_are_kept_and_listed_oldest_first(store: WebhookStore) -> None:
    store.add(hook("w2", minute=1))
    store.add(hook("w1", minute=1))
    store.add(hook("w0", "bob", minute=0))
    assert store.get("w2") == hook("w2", minute=1)
    assert store.get("missing") is None
    assert [w.webhook_id for w in store.of("alice")] == ["w1", "w2"]  # ties by id
    assert [w.webhook_id for w in store.of(None)] == ["w0", "w1", "w2"]
    assert store.of("carol") == []


def test_fan_out_makes_one_delivery_per_wanted_event_and_moves_the_cursor(
    store: WebhookStore,
) -> None:
    store.add(hook("w1"))
    store.add(hook("w2", "bob"))
    store.add(replace(hook("w3"), events=("asset.created",)))
    outbox = Outbox([event(1), event(2, "asset.created"), event(3, uploader="bob"), event(4)])
    assert store.fan_out(outbox, body) == 4  # w1: 1 and 4; w3: 2; w2 (bob's): 3
    assert store.fan_out(outbox, body) == 0
    assert outbox.reads == [0, 4]  # the second pass starts after the last event
    (delivery, _) = store.deliveries("w1")
    assert delivery == Delivery(
        delivery_id("evt_4", "w1"), "w1", 4, "asset.completed", "evt_4->w1",
        next_at=NOW, created_at=NOW,
    )  # fmt: skip
    assert [d.event_seq for d in store.deliveries("w2")] == [3]
    assert [d.event_seq for d in store.deliveries("w3")] == [2]


def test_fan_out_skips_what_renders_to_nothing_and_disabled_webhooks(store: WebhookStore) -> None:
    store.add(hook("w1"))
    store.add(hook("w2"))
    store.disable("w2", "the receiver answered 410 Gone")
    assert store.get("w2") == hook("w2", disabled="the receiver answered 410 Gone")
    outbox = Outbox([event(1), event(2)])
    made = store.fan_out(outbox, lambda e, w: None if e.seq == 1 else body(e, w))
    assert made == 1 and [d.event_seq for d in store.deliveries("w1")] == [2]
    assert store.deliveries("w2") == []
    assert store.fan_out(outbox, body) == 0  # the cursor is past both: nothing comes back


def test_a_claim_leases_the_oldest_due_delivery(store: WebhookStore) -> None:
    store.add(hook("w1"))
    store.fan_out(Outbox([event(1), event(2)]), body)
    first, second = sorted(store.deliveries("w1"), key=lambda d: d.event_seq)
    store.record(replace(second, next_at=NOW + 50))  # retried later: not due before then
    assert store.claim(NOW - 1, lease=60) is None  # none is due yet
    assert store.claim(NOW, lease=60) == first
    assert store.claim(NOW, lease=60) is None  # leased, and the other not due
    assert store.claim(NOW + 50, lease=60) == replace(second, next_at=NOW + 50)
    assert store.claim(NOW + 59, lease=60) is None
    again = store.claim(NOW + 60, lease=60)  # the first lease ran out
    assert again is not None and again.event_seq == 1


def test_record_keeps_an_attempt_and_ends_the_lease(store: WebhookStore) -> None:
    store.add(hook("w1"))
    store.fan_out(Outbox([event(1)]), body)
    claimed = store.claim(NOW, lease=30)
    assert claimed is not None
    tried = replace(
        claimed, attempts=(Attempt(at=NOW, status=None, error="refused"),), next_at=NOW + 5
    )
    store.record(tried)
    assert store.deliveries("w1") == [tried]
    assert store.claim(NOW + 5, lease=30) == tried  # due again, the lease ended with the attempt
    done = replace(tried, state="delivered", attempts=(*tried.attempts, Attempt(NOW + 5, 204)))
    store.record(done)
    assert store.deliveries("w1") == [done]
    assert store.claim(NOW + 1_000, lease=30) is None  # delivered: never claimed again


def test_deliveries_are_newest_first_and_limited(store: WebhookStore) -> None:
    store.add(hook("w1"))
    store.fan_out(Outbox([event(seq) for seq in range(1, 6)]), body)
    assert [d.event_seq for d in store.deliveries("w1")] == [5, 4, 3, 2, 1]
    assert [d.event_seq for d in store.deliveries("w1", limit=2)] == [5, 4]
    assert store.deliveries("missing") == []


def test_a_removed_webhook_takes_its_deliveries_with_it(store: WebhookStore) -> None:
    store.add(hook("w1"))
    store.add(hook("w2"))
    store.fan_out(Outbox([event(1)]), body)
    assert store.remove("w1") is True
    assert store.remove("w1") is False
    assert store.get("w1") is None and store.deliveries("w1") == []
    claimed = store.claim(NOW, lease=30)
    assert claimed is not None and claimed.webhook_id == "w2"
    assert store.claim(NOW, lease=30) is None  # w1's delivery went with it
