"""The SQLite catalog (embedded footprint).

Status changes are single UPDATE statements whose WHERE clause is the
condition (``status IN (...)``, "no job left unfinished"), run inside a
``BEGIN IMMEDIATE`` transaction: two processes completing the last two jobs at
once serialise on the write lock, and exactly one sees the condition true.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ...domain.asset import Asset, AssetError, AssetStatus, Job, JobState, sources_of
from ...domain.clock import isoformat
from ...domain.errors import AssetNotFound, Conflict
from ..sqlitedb import SqliteDatabase

SCHEMA = """
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
);
"""

TERMINAL_JOB_STATES = tuple(str(s) for s in JobState if s.terminal)


def _placeholders(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class SqliteCatalog:
    def __init__(self, path: Path | str) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    # reading -------------------------------------------------------------

    def _asset(self, conn: sqlite3.Connection, row: sqlite3.Row) -> Asset:
        job_ids = [
            r["job_id"]
            for r in conn.execute(
                "SELECT job_id FROM jobs WHERE asset_id = ? ORDER BY position", (row["asset_id"],)
            )
        ]
        return Asset(
            asset_id=row["asset_id"],
            status=AssetStatus(row["status"]),
            uploader_id=row["uploader_id"],
            source_bucket=row["source_bucket"],
            source_key=row["source_key"],
            source_version=row["source_version"],
            filename=row["filename"],
            file_size=row["file_size"],
            attempt=row["attempt"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            job_ids=tuple(job_ids),
            formats=tuple(json.loads(row["formats"])),
            outputs=json.loads(row["outputs"]),
            renditions=tuple(json.loads(row["renditions"])),
            errors=tuple(AssetError.from_item(e) for e in json.loads(row["errors"])),
        )

    def get(self, asset_id: str) -> Asset | None:
        conn = self.db.read()
        row = conn.execute("SELECT * FROM assets WHERE asset_id = ?", (asset_id,)).fetchone()
        return self._asset(conn, row) if row else None

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
    ) -> list[Asset]:
        conn = self.db.read()
        if status is not None and uploader_id is not None:
            where, args = "WHERE uploader_id = ? AND status = ?", [uploader_id, str(status)]
        elif status is not None:
            where, args = "WHERE status = ?", [str(status)]
        elif uploader_id is not None:
            where, args = "WHERE uploader_id = ?", [uploader_id]
        else:
            where, args = "", []
        rows = conn.execute(
            f"SELECT * FROM assets {where} ORDER BY created_at DESC, asset_id DESC LIMIT ?",  # noqa: S608
            (*args, limit),
        ).fetchall()
        return [self._asset(conn, r) for r in rows]

    def has_source(self, bucket: str, key: str) -> bool:
        row = (
            self.db.read()
            .execute(
                "SELECT 1 FROM assets WHERE source_bucket = ? AND source_key = ? LIMIT 1",
                (bucket, key),
            )
            .fetchone()
        )
        return row is not None

    def jobs(self, asset_id: str) -> list[Job]:
        rows = self.db.read().execute(
            "SELECT * FROM jobs WHERE asset_id = ? ORDER BY position", (asset_id,)
        )
        return [
            Job(
                job_id=r["job_id"],
                state=JobState(r["state"]),
                percent=r["percent"],
                eta_seconds=r["eta"],
                request=json.loads(r["request"]),
                outputs=json.loads(r["outputs"]),
                updated_at=r["updated_at"],
            )
            for r in rows
        ]

    # writing -------------------------------------------------------------

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        item = asset.to_item()
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO assets (asset_id, status, uploader_id, source_bucket,"
                " source_key, source_version, filename, file_size, attempt, created_at,"
                " updated_at, formats, outputs, renditions, errors)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    asset.asset_id,
                    str(asset.status),
                    asset.uploader_id,
                    asset.source_bucket,
                    asset.source_key,
                    asset.source_version,
                    asset.filename,
                    asset.file_size,
                    asset.attempt,
                    asset.created_at,
                    asset.updated_at,
                    json.dumps(item["formats"]),
                    json.dumps(item["outputs"]),
                    json.dumps(item["renditions"]),
                    json.dumps(item["errors"]),
                ),
            )
            created = cursor.rowcount == 1
        stored = self.get(asset.asset_id)
        assert stored is not None
        return stored, created

    def _transition(
        self,
        conn: sqlite3.Connection,
        asset_id: str,
        target: AssetStatus,
        now: datetime,
        extra_sql: str = "",
        extra_args: Sequence[Any] = (),
        condition: str = "",
        condition_args: Sequence[Any] = (),
    ) -> bool:
        """One conditional UPDATE: True iff the asset moved to ``target``."""
        allowed = [str(s) for s in sources_of(target)]
        cursor = conn.execute(
            f"UPDATE assets SET status = ?, updated_at = ?{extra_sql}"  # noqa: S608
            f" WHERE asset_id = ? AND status IN ({_placeholders(allowed)}){condition}",
            (str(target), isoformat(now), *extra_args, asset_id, *allowed, *condition_args),
        )
        return cursor.rowcount == 1

    def _require(self, conn: sqlite3.Connection, asset_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM assets WHERE asset_id = ?", (asset_id,)
        ).fetchone()
        if row is None:
            raise AssetNotFound(f"no asset {asset_id}")
        return row

    def start_processing(
        self,
        asset_id: str,
        jobs: Sequence[Job],
        *,
        formats: Sequence[str],
        renditions: Sequence[dict[str, Any]],
        now: datetime,
    ) -> Asset:
        with self.db.write() as conn:
            row = self._require(conn, asset_id)
            if row["status"] != AssetStatus.PENDING:
                raise Conflict(f"asset {asset_id} is {row['status']}, not PENDING")
            self._transition(
                conn,
                asset_id,
                AssetStatus.PROCESSING,
                now,
                ", formats = ?, renditions = ?",
                (json.dumps(list(formats)), json.dumps(list(renditions))),
            )
            conn.executemany(
                "INSERT INTO jobs (asset_id, job_id, position, state, percent, request, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        asset_id,
                        j.job_id,
                        i,
                        str(j.state),
                        0.0,
                        json.dumps(j.request),
                        isoformat(now),
                    )
                    for i, j in enumerate(jobs)
                ],
            )
        asset = self.get(asset_id)
        assert asset is not None
        return asset

    def _update_job(
        self, conn: sqlite3.Connection, asset_id: str, job_id: str, sets: str, args: Sequence[Any]
    ) -> None:
        """Update a job that has not ended, of an asset that has not ended."""
        if self._require(conn, asset_id)["status"] != AssetStatus.PROCESSING:
            return  # a late or duplicate event: an ended asset is never written again
        conn.execute(
            f"UPDATE jobs SET {sets} WHERE asset_id = ? AND job_id = ?"  # noqa: S608
            f" AND state NOT IN ({_placeholders(TERMINAL_JOB_STATES)})",
            (*args, asset_id, job_id, *TERMINAL_JOB_STATES),
        )

    def record_progress(
        self,
        asset_id: str,
        job_id: str,
        percent: float,
        now: datetime,
        eta_seconds: float | None = None,
    ) -> None:
        with self.db.write() as conn:
            self._update_job(
                conn,
                asset_id,
                job_id,
                "state = ?, percent = ?, eta = ?, updated_at = ?",
                (str(JobState.PROGRESSING), percent, eta_seconds, isoformat(now)),
            )

    def complete_job(
        self, asset_id: str, job_id: str, outputs: dict[str, str], now: datetime
    ) -> bool:
        with self.db.write() as conn:
            self._update_job(
                conn,
                asset_id,
                job_id,
                "state = ?, percent = 100, eta = 0, outputs = ?, updated_at = ?",
                (str(JobState.COMPLETE), json.dumps(outputs), isoformat(now)),
            )
            merged: dict[str, str] = {}
            for r in conn.execute(
                "SELECT outputs FROM jobs WHERE asset_id = ? ORDER BY position", (asset_id,)
            ):
                merged.update(json.loads(r["outputs"]))
            return self._transition(
                conn,
                asset_id,
                AssetStatus.COMPLETED,
                now,
                ", outputs = ?",
                (json.dumps(merged),),
                " AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.asset_id = assets.asset_id"
                " AND jobs.state != ?)",
                (str(JobState.COMPLETE),),
            )

    def fail(
        self, asset_id: str, error: AssetError, now: datetime, *, job_id: str | None = None
    ) -> bool:
        with self.db.write() as conn:
            row = self._require(conn, asset_id)
            if AssetStatus(row["status"]).terminal:
                return False  # an ended asset is never written again
            if job_id:
                self._update_job(
                    conn,
                    asset_id,
                    job_id,
                    "state = ?, updated_at = ?",
                    (str(JobState.ERROR), isoformat(now)),
                )
            stamped = AssetError(
                error.code, error.message, error.at or isoformat(now), job_id or error.job_id
            )
            errors = json.dumps([*json.loads(row["errors"]), stamped.to_item()])
            return self._transition(
                conn, asset_id, AssetStatus.FAILED, now, ", errors = ?", (errors,)
            )

    def retry(self, asset_id: str, now: datetime) -> Asset:
        with self.db.write() as conn:
            self._require(conn, asset_id)
            if not self._transition(
                conn, asset_id, AssetStatus.PENDING, now, ", attempt = attempt + 1"
            ):
                raise Conflict(f"asset {asset_id} is not FAILED; only FAILED assets can be retried")
            conn.execute("DELETE FROM jobs WHERE asset_id = ?", (asset_id,))
        asset = self.get(asset_id)
        assert asset is not None
        return asset
