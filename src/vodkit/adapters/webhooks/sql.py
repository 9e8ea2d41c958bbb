"""Webhooks and their deliveries in the catalog's database: SQLite's or PostgreSQL's.

SQLite's write transactions hold the whole database; PostgreSQL's hold the rows a
claim selects ``FOR UPDATE SKIP LOCKED``, and the outbox cursor the same way, so
several workers fan out and send without doing the same delivery twice at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from ...domain.outbox import AssetEvent
from ...domain.webhooks import Attempt, Delivery, Webhook, delivery_id
from ..sqldb import SqlDatabase
from .base import Render

CURSOR = "webhooks"
CURSOR_ROW = "INSERT INTO outbox_cursors (name, seq) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"
CURSOR_READ = "SELECT seq FROM outbox_cursors WHERE name = ?{lock}"  # held till the commit
CLAIM = (  # the oldest due delivery that no one holds, held now for ``lease`` seconds
    "UPDATE webhook_deliveries SET lease_until = ? WHERE delivery_id = ("
    " SELECT delivery_id FROM webhook_deliveries WHERE state = 'pending'"
    " AND next_at <= ? AND lease_until <= ? ORDER BY next_at LIMIT 1{lock}) RETURNING *"
)
INSERT_DELIVERY = (
    "INSERT INTO webhook_deliveries (delivery_id, webhook_id, event_seq, type, payload, state,"
    " next_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)"
    " ON CONFLICT (delivery_id) DO NOTHING"
)


def _webhook(row: Any) -> Webhook:
    return Webhook(
        webhook_id=row["webhook_id"],
        uploader_id=row["uploader_id"],
        url=row["url"],
        events=tuple(json.loads(row["events"])),
        secret=row["secret"],
        created_at=row["created_at"],
        disabled=row["disabled"],
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        delivery_id=row["delivery_id"],
        webhook_id=row["webhook_id"],
        event_seq=row["event_seq"],
        type=row["type"],
        payload=row["payload"],
        state=row["state"],
        attempts=tuple(Attempt(**a) for a in json.loads(row["attempts"])),
        next_at=row["next_at"],
        created_at=row["created_at"],
    )


class SqlWebhookStore:
    def __init__(self, db: SqlDatabase, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def add(self, webhook: Webhook) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO webhooks (webhook_id, uploader_id, url, events, secret, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (webhook.webhook_id, webhook.uploader_id, webhook.url,
                 json.dumps(list(webhook.events)), webhook.secret, webhook.created_at),
            )  # fmt: skip

    def get(self, webhook_id: str) -> Webhook | None:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM webhooks WHERE webhook_id = ?", (webhook_id,)
            ).fetchone()
        return _webhook(row) if row else None

    def of(self, uploader_id: str | None) -> list[Webhook]:
        with self.db.reading() as conn:
            if uploader_id is None:
                cursor = conn.execute("SELECT * FROM webhooks ORDER BY created_at, webhook_id")
            else:
                cursor = conn.execute(
                    "SELECT * FROM webhooks WHERE uploader_id = ? ORDER BY created_at, webhook_id",
                    (uploader_id,),
                )
            rows = cursor.fetchall()
        return [_webhook(r) for r in rows]

    def remove(self, webhook_id: str) -> bool:
        with self.db.write() as conn:
            conn.execute("DELETE FROM webhook_deliveries WHERE webhook_id = ?", (webhook_id,))
            cursor = conn.execute("DELETE FROM webhooks WHERE webhook_id = ?", (webhook_id,))
            return bool(cursor.rowcount == 1)

    def disable(self, webhook_id: str, reason: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE webhooks SET disabled = ? WHERE webhook_id = ?", (reason, webhook_id)
            )

    def fan_out(self, read: Callable[[int], Sequence[AssetEvent]], render: Render) -> int:
        made = 0
        with self.db.write() as conn:  # one writer at a time: the cursor moves once
            conn.execute(CURSOR_ROW, (CURSOR,))
            row = conn.execute(CURSOR_READ.format(lock=self.db.row_lock), (CURSOR,)).fetchone()
            if row is None:
                return 0  # another worker is fanning out these events now
            events = read(row["seq"])
            if not events:
                return 0
            webhooks = [
                _webhook(r) for r in conn.execute("SELECT * FROM webhooks WHERE disabled = ''")
            ]
            now = self.clock()
            for event in events:
                for webhook in webhooks:
                    if webhook.uploader_id != event.uploader_id or event.type not in webhook.events:
                        continue  # a webhook sees only its owner's assets
                    body = render(event, webhook)
                    if body is None:
                        continue
                    made += conn.execute(INSERT_DELIVERY,
                        (delivery_id(event.event_id, webhook.webhook_id), webhook.webhook_id,
                         event.seq, event.type, body, now, now),
                    ).rowcount  # fmt: skip
            conn.execute(
                "UPDATE outbox_cursors SET seq = ? WHERE name = ?", (events[-1].seq, CURSOR)
            )
        return made

    def claim(self, now: float, lease: float) -> Delivery | None:
        with self.db.write() as conn:
            row = conn.execute(
                CLAIM.format(lock=self.db.row_lock), (now + lease, now, now)
            ).fetchone()
        return _delivery(row) if row else None

    def record(self, delivery: Delivery) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?,"
                " lease_until = 0 WHERE delivery_id = ?",
                (delivery.state, json.dumps([asdict(a) for a in delivery.attempts]),
                 delivery.next_at, delivery.delivery_id),
            )  # fmt: skip

    def deliveries(self, webhook_id: str, limit: int = 100) -> list[Delivery]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM webhook_deliveries WHERE webhook_id = ?"
                " ORDER BY created_at DESC, event_seq DESC LIMIT ?",
                (webhook_id, limit),
            ).fetchall()
        return [_delivery(r) for r in rows]
