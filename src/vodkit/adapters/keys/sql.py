"""Keys in the catalog's database (``api_keys``): SQLite's or PostgreSQL's."""

from __future__ import annotations

from typing import Any

from ...domain.access import ApiKey
from ..sqldb import SqlDatabase


def _key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        uploader_id=row["uploader_id"],
        admin=bool(row["admin"]),
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"] or "",
    )


class SqlKeyStore:
    def __init__(self, db: SqlDatabase) -> None:
        self.db = db

    def add(self, key: ApiKey) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO api_keys (key_id, uploader_id, admin, secret_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (key.key_id, key.uploader_id, int(key.admin), key.secret_hash, key.created_at),
            )

    def get(self, key_id: str) -> ApiKey | None:
        with self.db.reading() as conn:
            row = conn.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return _key(row) if row else None

    def all(self) -> list[ApiKey]:
        with self.db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM api_keys ORDER BY created_at DESC, key_id DESC"
            ).fetchall()
        return [_key(r) for r in rows]

    def revoke(self, key_id: str, at: str) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                (at, key_id),
            )
            return bool(cursor.rowcount == 1)

    def end_session(self, session_hash: str, expires: float, now: float) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM ended_sessions WHERE expires <= ?", (now,))
            conn.execute(
                "INSERT INTO ended_sessions (session_hash, expires) VALUES (?, ?)"
                " ON CONFLICT (session_hash) DO NOTHING",
                (session_hash, expires),
            )

    def session_ended(self, session_hash: str) -> bool:
        with self.db.reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM ended_sessions WHERE session_hash = ?", (session_hash,)
            ).fetchone()
        return row is not None
