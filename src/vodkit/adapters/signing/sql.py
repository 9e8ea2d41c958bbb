"""The signing secret in the catalog's database (cluster: every API node shares it)."""

from __future__ import annotations

import secrets

from ..sqldb import SqlDatabase
from .base import SECRET_BYTES


class SqlSigningSecret:
    def __init__(self, db: SqlDatabase, name: str = "signing") -> None:
        self.db = db
        self.name = name

    def get(self) -> bytes:
        """The first writer's value wins (ON CONFLICT DO NOTHING), read in the same
        transaction."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO server_secrets (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO NOTHING",
                (self.name, secrets.token_hex(SECRET_BYTES)),
            )
            row = conn.execute(
                "SELECT value FROM server_secrets WHERE name = ?", (self.name,)
            ).fetchone()
        return bytes.fromhex(row["value"])
