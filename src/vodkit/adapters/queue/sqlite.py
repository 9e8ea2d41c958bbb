"""A queue in SQLite with SQS semantics (embedded footprint).

Many worker processes may share the file: a receive claims messages inside a
``BEGIN IMMEDIATE`` transaction, so no two workers get the same delivery.
Dead letters stay in the same table, marked with ``dead_at``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ...domain.errors import LeaseLost
from ..sqlitedb import SqliteDatabase
from .base import MAX_RECEIVES, DeadLetter, Message, QueueDepth

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id            TEXT PRIMARY KEY,
    queue         TEXT NOT NULL,
    body          TEXT NOT NULL,
    dedup_id      TEXT,
    sent_at       REAL NOT NULL,
    visible_at    REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT,
    last_error    TEXT NOT NULL DEFAULT '',
    dead_at       REAL
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, dead_at, visible_at);
CREATE UNIQUE INDEX IF NOT EXISTS messages_dedup ON messages (queue, dedup_id)
    WHERE dedup_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS messages_receipt ON messages (receipt)
    WHERE receipt IS NOT NULL;
"""


class SqliteQueue:
    def __init__(
        self,
        path: Path | str,
        name: str,
        *,
        visibility_timeout: float = 60.0,
        max_receives: int = MAX_RECEIVES,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = SqliteDatabase(path, [SCHEMA])
        self.name = name
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self.poll_interval = poll_interval
        self.clock = clock

    def send(self, body: str, *, dedup_id: str | None = None, delay: float = 0) -> str:
        message_id = str(uuid.uuid4())
        now = self.clock()
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT INTO messages (id, queue, body, dedup_id, sent_at, visible_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (message_id, self.name, body, dedup_id, now, now + delay),
            )
            if cursor.rowcount == 0:  # a live message with this dedup id exists
                row = conn.execute(
                    "SELECT id FROM messages WHERE queue = ? AND dedup_id = ?",
                    (self.name, dedup_id),
                ).fetchone()
                return str(row["id"])
        return message_id

    def receive(self, *, max_messages: int = 1, wait: float = 0) -> list[Message]:
        deadline = self.clock() + wait
        while True:
            messages = self._claim(max_messages)
            if messages or self.clock() >= deadline:
                return messages
            time.sleep(min(self.poll_interval, max(0.0, deadline - self.clock())))

    def _claim(self, max_messages: int) -> list[Message]:
        now = self.clock()
        claimed: list[Message] = []
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT id, body, receive_count, sent_at FROM messages"
                " WHERE queue = ? AND dead_at IS NULL AND visible_at <= ?"
                " ORDER BY visible_at, sent_at LIMIT ?",
                (self.name, now, max_messages + 16),
            ).fetchall()
            for row in rows:
                if len(claimed) == max_messages:
                    break
                if row["receive_count"] >= self.max_receives:
                    conn.execute(
                        "UPDATE messages SET dead_at = ?, receipt = NULL WHERE id = ?",
                        (now, row["id"]),
                    )
                    continue
                receipt = uuid.uuid4().hex
                conn.execute(
                    "UPDATE messages SET receive_count = receive_count + 1, receipt = ?,"
                    " visible_at = ? WHERE id = ?",
                    (receipt, now + self.visibility_timeout, row["id"]),
                )
                claimed.append(
                    Message(
                        id=row["id"],
                        body=row["body"],
                        receipt=receipt,
                        receive_count=row["receive_count"] + 1,
                        sent_at=row["sent_at"],
                    )
                )
        return claimed

    def _by_receipt(self, sql: str, args: tuple[object, ...], receipt: str) -> None:
        with self.db.write() as conn:
            cursor = conn.execute(sql, (*args, receipt))
            if cursor.rowcount != 1:
                raise LeaseLost("the receipt is stale: the message was redelivered or deleted")

    def delete(self, receipt: str) -> None:
        self._by_receipt("DELETE FROM messages WHERE receipt = ?", (), receipt)

    def extend(self, receipt: str, seconds: float) -> None:
        self._by_receipt(
            "UPDATE messages SET visible_at = ? WHERE receipt = ?",
            (self.clock() + seconds,),
            receipt,
        )

    def release(self, receipt: str, *, delay: float = 0, error: str = "") -> None:
        self._by_receipt(
            "UPDATE messages SET visible_at = ?, receipt = NULL, last_error = ? WHERE receipt = ?",
            (self.clock() + delay, error[:2000]),
            receipt,
        )

    def dead_letters(self) -> list[DeadLetter]:
        rows = self.db.read().execute(
            "SELECT * FROM messages WHERE queue = ? AND dead_at IS NOT NULL ORDER BY dead_at",
            (self.name,),
        )
        return [
            DeadLetter(
                id=r["id"],
                queue=self.name,
                body=r["body"],
                receive_count=r["receive_count"],
                sent_at=r["sent_at"],
                dead_at=r["dead_at"],
                last_error=r["last_error"],
            )
            for r in rows
        ]

    def redrive(self, ids: list[str] | None = None) -> int:
        sql = (
            "UPDATE messages SET dead_at = NULL, receive_count = 0, receipt = NULL,"
            " visible_at = ? WHERE queue = ? AND dead_at IS NOT NULL"
        )
        args: list[object] = [self.clock(), self.name]
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            args += ids
        with self.db.write() as conn:
            return conn.execute(sql, args).rowcount

    def depth(self) -> QueueDepth:
        row = (
            self.db.read()
            .execute(
                "SELECT"
                " COALESCE(SUM(dead_at IS NULL AND visible_at <= ?), 0) AS visible,"
                " COALESCE(SUM(dead_at IS NULL AND visible_at > ?), 0) AS in_flight,"
                " COALESCE(SUM(dead_at IS NOT NULL), 0) AS dead,"
                " MIN(CASE WHEN dead_at IS NULL THEN sent_at END) AS oldest"
                " FROM messages WHERE queue = ?",
                (self.clock(), self.clock(), self.name),
            )
            .fetchone()
        )
        oldest = None if row["oldest"] is None else max(0.0, self.clock() - row["oldest"])
        return QueueDepth(row["visible"], row["in_flight"], row["dead"], oldest)
