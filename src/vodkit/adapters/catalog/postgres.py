"""The PostgreSQL catalog (cluster footprint).

A change reads the asset's row ``FOR UPDATE`` inside its transaction: two workers
completing an asset's last two jobs at once take turns on the row, and the
second decides on the first's result (``sql.SqlCatalog``). The database holds,
as SQLite's does, the outbox, the API keys, the webhooks and their deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..chunks.postgres import TABLES as CHUNK_TABLES
from ..postgresdb import PostgresDatabase
from .sql import Connection, SqlCatalog

MIGRATIONS = (
    """
    CREATE TABLE assets (
        asset_id       TEXT PRIMARY KEY,
        status         TEXT NOT NULL,
        uploader_id    TEXT NOT NULL,
        source_bucket  TEXT NOT NULL,
        source_key     TEXT NOT NULL,
        source_version TEXT NOT NULL,
        filename       TEXT NOT NULL,
        file_size      BIGINT NOT NULL,
        attempt        INTEGER NOT NULL,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        formats        TEXT NOT NULL DEFAULT '[]',
        outputs        TEXT NOT NULL DEFAULT '{}',
        renditions     TEXT NOT NULL DEFAULT '[]',
        errors         TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX assets_by_status ON assets (status, created_at DESC, asset_id DESC);
    CREATE INDEX assets_by_uploader ON assets (uploader_id, created_at DESC, asset_id DESC);
    CREATE INDEX assets_by_time ON assets (created_at DESC, asset_id DESC);
    CREATE INDEX assets_by_source ON assets (source_bucket, source_key);
    CREATE TABLE jobs (
        asset_id   TEXT NOT NULL REFERENCES assets (asset_id),
        job_id     TEXT NOT NULL,
        position   INTEGER NOT NULL,
        state      TEXT NOT NULL,
        percent    DOUBLE PRECISION NOT NULL DEFAULT 0,
        eta        DOUBLE PRECISION,
        request    TEXT NOT NULL DEFAULT '{}',
        outputs    TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        runner_id  TEXT NOT NULL DEFAULT '',
        lease_owner TEXT NOT NULL DEFAULT '',
        lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        restarts   INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (asset_id, job_id)
    );
    CREATE TABLE asset_events (
        seq         BIGSERIAL PRIMARY KEY,
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
        event_seq   BIGINT NOT NULL,
        type        TEXT NOT NULL,
        payload     TEXT NOT NULL,
        state       TEXT NOT NULL,
        attempts    TEXT NOT NULL DEFAULT '[]',
        next_at     DOUBLE PRECISION NOT NULL,
        lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        created_at  DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX deliveries_due ON webhook_deliveries (state, next_at);
    CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
    CREATE TABLE outbox_cursors (name TEXT PRIMARY KEY, seq BIGINT NOT NULL)
    """,
    # the secrets every API node shares (signing of playback tokens and sessions)
    "CREATE TABLE server_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # browser sessions signed out before they expire (the cookie itself needs no storage)
    "CREATE TABLE ended_sessions"
    " (session_hash TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL)",
    "ALTER TABLE assets ADD COLUMN duration DOUBLE PRECISION",  # seconds, of the source's video
    # the metrics count status changes by type at every scrape: from this index, not the rows
    "CREATE INDEX asset_events_by_type ON asset_events (type)",
    "ALTER TABLE jobs ADD COLUMN phase TEXT NOT NULL DEFAULT ''",  # what its percent is of
    # what an asset holds: its kind, its audio and text tracks and those its source lost
    """
    ALTER TABLE assets ADD COLUMN kind TEXT NOT NULL DEFAULT 'video';
    ALTER TABLE assets ADD COLUMN tracks TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE assets ADD COLUMN skipped TEXT NOT NULL DEFAULT '[]'
    """,
    CHUNK_TABLES,  # a chunked transcode's pieces and its stitch trigger (issue 28)
)


def catalog_database(dsn: str, **options: object) -> PostgresDatabase:
    return PostgresDatabase(dsn, MIGRATIONS, **options)  # type: ignore[arg-type]


class PostgresCatalog(SqlCatalog):
    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self.db.reading() as conn:
            yield conn

    @contextmanager
    def _writing(self, asset_id: str | None) -> Iterator[Connection]:
        with self.db.write() as conn:
            if asset_id is not None:  # held until the transaction ends
                conn.execute("SELECT 1 FROM assets WHERE asset_id = ? FOR UPDATE", (asset_id,))
            yield conn
