"""The SQLite catalog (embedded footprint).

Every change runs in a ``BEGIN IMMEDIATE`` transaction, which takes the
database's write lock before it reads the record it decides on: two processes
completing an asset's last two jobs at once serialise there, and the second
sees the first's result (``sql.SqlCatalog``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..sqlitedb import SqliteDatabase
from .sql import Connection, SqlCatalog

# The catalog's database holds the catalog and what must change with it in one
# transaction: the outbox of status changes, API keys, webhooks and their deliveries.
MIGRATIONS = (
    """
    CREATE TABLE IF NOT EXISTS assets (
        asset_id       TEXT PRIMARY KEY,
        status         TEXT NOT NULL,
        uploader_id    TEXT NOT NULL,
        source_bucket  TEXT NOT NULL,
        source_key     TEXT NOT NULL,
        source_version TEXT NOT NULL,
        filename       TEXT NOT NULL,
        file_size      INTEGER NOT NULL,
        attempt        INTEGER NOT NULL,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        formats        TEXT NOT NULL DEFAULT '[]',
        outputs        TEXT NOT NULL DEFAULT '{}',
        renditions     TEXT NOT NULL DEFAULT '[]',
        errors         TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX IF NOT EXISTS assets_by_status ON assets (status, created_at);
    CREATE INDEX IF NOT EXISTS assets_by_uploader ON assets (uploader_id, created_at);
    CREATE INDEX IF NOT EXISTS assets_by_source ON assets (source_bucket, source_key);
    CREATE TABLE IF NOT EXISTS jobs (
        asset_id   TEXT NOT NULL REFERENCES assets (asset_id),
        job_id     TEXT NOT NULL,
        position   INTEGER NOT NULL,
        state      TEXT NOT NULL,
        percent    REAL NOT NULL DEFAULT 0,
        eta        REAL,
        request    TEXT NOT NULL DEFAULT '{}',
        outputs    TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (asset_id, job_id)
    )
    """,
    "ALTER TABLE jobs ADD COLUMN runner_id TEXT NOT NULL DEFAULT ''",
    """
    CREATE TABLE asset_events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id    TEXT NOT NULL UNIQUE,
        type        TEXT NOT NULL,
        asset_id    TEXT NOT NULL,
        uploader_id TEXT NOT NULL,
        at          TEXT NOT NULL,
        asset       TEXT NOT NULL
    );
    CREATE TABLE api_keys (
        key_id      TEXT PRIMARY KEY,
        uploader_id TEXT NOT NULL,
        admin       INTEGER NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE webhooks (
        webhook_id  TEXT PRIMARY KEY,
        uploader_id TEXT NOT NULL,
        url         TEXT NOT NULL,
        events      TEXT NOT NULL,
        secret      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        disabled    TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX webhooks_by_uploader ON webhooks (uploader_id);
    CREATE TABLE webhook_deliveries (
        delivery_id TEXT PRIMARY KEY,
        webhook_id  TEXT NOT NULL,
        event_seq   INTEGER NOT NULL,
        type        TEXT NOT NULL,
        payload     TEXT NOT NULL,
        state       TEXT NOT NULL,
        attempts    TEXT NOT NULL DEFAULT '[]',
        next_at     REAL NOT NULL,
        lease_until REAL NOT NULL DEFAULT 0,
        created_at  REAL NOT NULL
    );
    CREATE INDEX deliveries_due ON webhook_deliveries (state, next_at);
    CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
    CREATE TABLE outbox_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)
    """,
    """
    ALTER TABLE jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN restarts INTEGER NOT NULL DEFAULT 0
    """,
    # browser sessions signed out before they expire (the cookie itself needs no storage)
    "CREATE TABLE ended_sessions (session_hash TEXT PRIMARY KEY, expires REAL NOT NULL)",
    "ALTER TABLE assets ADD COLUMN duration REAL",  # seconds, of the source's video
    # the metrics count status changes by type at every scrape: from this index, not the rows
    "CREATE INDEX asset_events_by_type ON asset_events (type)",
    "ALTER TABLE jobs ADD COLUMN phase TEXT NOT NULL DEFAULT ''",  # what its percent is of
    # what an asset holds: its kind, its audio and text tracks and those its source lost
    """
    ALTER TABLE assets ADD COLUMN kind TEXT NOT NULL DEFAULT 'video';
    ALTER TABLE assets ADD COLUMN tracks TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE assets ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]'
    """,
)


def catalog_database(path: Path | str) -> SqliteDatabase:
    """The embedded footprint's catalog database, shared by the stores whose tables it holds."""
    return SqliteDatabase(path, MIGRATIONS)


class SqliteCatalog(SqlCatalog):
    def __init__(self, path: Path | str | SqliteDatabase) -> None:
        self.db = path if isinstance(path, SqliteDatabase) else catalog_database(path)

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.db.reading() as conn:
            yield conn

    @contextmanager
    def _writing(self, asset_id: str | None) -> Iterator[Connection]:
        with self.db.write() as conn:  # the database's write lock: every row is held
            yield conn
