"""What SQL catalogs share: two tables, their rows, and the transitions applied to them.

An asset is a row of ``assets``; its jobs are rows of ``jobs``, in order. A
change reads both inside a write transaction that holds the asset (SQLite's
``BEGIN IMMEDIATE``, PostgreSQL's ``SELECT ... FOR UPDATE``), applies one of
the domain's transitions and writes back what changed before committing, so
two writers racing (the last two jobs completing at once) decide one after
the other. Statements use ``?`` placeholders; an engine that wants another
style rewrites them (``placeholders``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from ...domain.asset import Asset, AssetError, AssetStatus, Job, JobState
from ...domain.errors import AssetNotFound
from ...domain.outbox import AssetEvent, event_for
from ...domain.tracks import Skipped, Track
from ...domain.transitions import AssetRecord
from .records import Change, RecordCatalog

T = TypeVar("T")

ASSET_COLUMNS = (
    "asset_id", "status", "uploader_id", "source_bucket", "source_key", "source_version",
    "filename", "file_size", "attempt", "created_at", "updated_at", "formats", "outputs",
    "renditions", "errors", "duration", "kind", "tracks", "skipped",
)  # fmt: skip
JOB_COLUMNS = (
    "asset_id", "job_id", "position", "state", "percent", "eta", "request", "outputs",
    "updated_at", "runner_id", "lease_owner", "lease_until", "restarts", "phase",
)  # fmt: skip


def _list(columns: Sequence[str]) -> str:
    return ", ".join(columns)


def _marks(columns: Sequence[str]) -> str:
    return ", ".join("?" * len(columns))


SELECT_ASSET = "SELECT * FROM assets WHERE asset_id = ?"
SELECT_JOBS = "SELECT * FROM jobs WHERE asset_id = ? ORDER BY position"
INSERT_ASSET = (
    f"INSERT INTO assets ({_list(ASSET_COLUMNS)}) VALUES ({_marks(ASSET_COLUMNS)})"  # noqa: S608
    " ON CONFLICT (asset_id) DO NOTHING"
)
UPDATE_ASSET = (
    "UPDATE assets SET "  # noqa: S608
    + ", ".join(f"{c} = ?" for c in ASSET_COLUMNS[1:])
    + " WHERE asset_id = ?"
)
UPSERT_JOB = (
    f"INSERT INTO jobs ({_list(JOB_COLUMNS)}) VALUES ({_marks(JOB_COLUMNS)})"  # noqa: S608
    " ON CONFLICT (asset_id, job_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in JOB_COLUMNS[2:])
)
DELETE_JOB = "DELETE FROM jobs WHERE asset_id = ? AND job_id = ?"
EVENT_COLUMNS = ("event_id", "type", "asset_id", "uploader_id", "at", "asset")
INSERT_EVENT = f"INSERT INTO asset_events ({_list(EVENT_COLUMNS)}) VALUES ({_marks(EVENT_COLUMNS)})"  # noqa: S608
SELECT_EVENTS = "SELECT * FROM asset_events WHERE seq > ? ORDER BY seq LIMIT ?"


def asset_values(asset: Asset) -> tuple[Any, ...]:
    item = asset.to_item()
    return (
        asset.asset_id, str(asset.status), asset.uploader_id, asset.source_bucket,
        asset.source_key, asset.source_version, asset.filename, asset.file_size, asset.attempt,
        asset.created_at, asset.updated_at, json.dumps(item["formats"]),
        json.dumps(item["outputs"]), json.dumps(item["renditions"]), json.dumps(item["errors"]),
        asset.duration, asset.kind, json.dumps(item["tracks"]), json.dumps(item["skipped"]),
    )  # fmt: skip


def job_values(asset_id: str, position: int, job: Job) -> tuple[Any, ...]:
    return (
        asset_id, job.job_id, position, str(job.state), job.percent, job.eta_seconds,
        json.dumps(job.request), json.dumps(job.outputs), job.updated_at, job.runner_id,
        job.lease_owner, job.lease_until, job.restarts, job.phase,
    )  # fmt: skip


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value  # jsonb arrives parsed


def asset_from(row: Any, job_ids: Sequence[str]) -> Asset:
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
        formats=tuple(_json(row["formats"])),
        outputs=_json(row["outputs"]),
        renditions=tuple(_json(row["renditions"])),
        errors=tuple(AssetError.from_item(e) for e in _json(row["errors"])),
        duration=row["duration"],
        kind=row["kind"],
        tracks=tuple(Track.from_dict(t) for t in _json(row["tracks"])),
        skipped=tuple(Skipped.from_dict(s) for s in _json(row["skipped"])),
    )


def job_from(row: Any) -> Job:
    return Job(
        job_id=row["job_id"],
        state=JobState(row["state"]),
        percent=row["percent"],
        eta_seconds=row["eta"],
        phase=row["phase"],
        request=_json(row["request"]),
        outputs=_json(row["outputs"]),
        updated_at=row["updated_at"],
        runner_id=row["runner_id"],
        lease_owner=row["lease_owner"],
        lease_until=row["lease_until"],
        restarts=row["restarts"],
    )


class Connection(Protocol):
    """What the catalog needs of a DB-API connection (sqlite3's, psycopg's)."""

    def execute(self, sql: str, args: Sequence[Any] = ..., /) -> Any: ...


class SqlCatalog(RecordCatalog):
    """A catalog over any SQL engine; a subclass says how to read and how to write."""

    def _reading(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _writing(self, asset_id: str | None) -> AbstractContextManager[Connection]:
        """A transaction that holds ``asset_id``'s row (if given) until it commits."""
        raise NotImplementedError

    def placeholders(self, sql: str) -> str:
        return sql

    def _run(self, conn: Connection, sql: str, args: Sequence[Any] = ()) -> Any:
        return conn.execute(self.placeholders(sql), args)

    def _record(self, conn: Connection, asset_id: str) -> AssetRecord | None:
        row = self._run(conn, SELECT_ASSET, (asset_id,)).fetchone()
        if row is None:
            return None
        jobs = tuple(job_from(r) for r in self._run(conn, SELECT_JOBS, (asset_id,)).fetchall())
        return AssetRecord(asset_from(row, [j.job_id for j in jobs]), jobs)

    def get(self, asset_id: str) -> Asset | None:
        with self._reading() as conn:
            record = self._record(conn, asset_id)
        return record.asset if record else None

    def has_source(self, bucket: str, key: str) -> bool:
        with self._reading() as conn:
            found = self._run(
                conn,
                "SELECT 1 FROM assets WHERE source_bucket = ? AND source_key = ? LIMIT 1",
                (bucket, key),
            ).fetchone()
        return found is not None

    def jobs(self, asset_id: str) -> list[Job]:
        with self._reading() as conn:
            return [job_from(r) for r in self._run(conn, SELECT_JOBS, (asset_id,)).fetchall()]

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
        before: tuple[str, str] | None = None,
    ) -> list[Asset]:
        conditions, args = self._filters(status, uploader_id)
        if before is not None:
            conditions.append("(created_at < ? OR (created_at = ? AND asset_id < ?))")
            args += [before[0], before[0], before[1]]
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT * FROM assets {where} ORDER BY created_at DESC, asset_id DESC LIMIT ?"  # noqa: S608
        with self._reading() as conn:
            rows = self._run(conn, sql, (*args, limit)).fetchall()
            job_ids: dict[str, list[str]] = {r["asset_id"]: [] for r in rows}
            if job_ids:
                found = self._run(
                    conn,
                    f"SELECT asset_id, job_id FROM jobs WHERE asset_id IN ({_marks(list(job_ids))})"  # noqa: S608
                    " ORDER BY position",
                    list(job_ids),
                ).fetchall()
                for r in found:
                    job_ids[r["asset_id"]].append(r["job_id"])
        return [asset_from(r, job_ids[r["asset_id"]]) for r in rows]

    @staticmethod
    def _filters(
        status: AssetStatus | None, uploader_id: str | None
    ) -> tuple[list[str], list[Any]]:
        conditions: list[str] = []
        args: list[Any] = []
        if uploader_id is not None:
            conditions.append("uploader_id = ?")
            args.append(uploader_id)
        if status is not None:
            conditions.append("status = ?")
            args.append(str(status))
        return conditions, args

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        with self._writing(None) as conn:
            created = self._run(conn, INSERT_ASSET, asset_values(asset)).rowcount == 1
            if created:
                self._record_event(conn, None, asset)
        stored = self.get(asset.asset_id)
        assert stored is not None
        return stored, created

    def _apply(self, asset_id: str, change: Change[T]) -> T:
        with self._writing(asset_id) as conn:
            record = self._record(conn, asset_id)
            if record is None:
                raise AssetNotFound(f"no asset {asset_id}")
            updated, result = change(record)
            if updated is not None:
                self._write(conn, record, updated)
                self._record_event(conn, record.asset, updated.asset)
        return result

    def _record_event(self, conn: Connection, before: Asset | None, after: Asset) -> None:
        if (event := event_for(before, after)) is not None:
            values = (event.event_id, event.type, event.asset_id, event.uploader_id, event.at)
            self._run(conn, INSERT_EVENT, (*values, json.dumps(event.asset)))

    def counts(self) -> dict[str, int]:
        """Assets by status (the metrics' gauge)."""
        with self._reading() as conn:
            rows = self._run(conn, "SELECT status, COUNT(*) AS n FROM assets GROUP BY status")
            return {r["status"]: r["n"] for r in rows.fetchall()}

    def totals(self) -> dict[str, int]:
        """Status changes by type (the metrics' counters), from the index on the type."""
        with self._reading() as conn:
            rows = self._run(conn, "SELECT type, COUNT(*) AS n FROM asset_events GROUP BY type")
            return {r["type"]: r["n"] for r in rows.fetchall()}

    def events_after(self, seq: int, limit: int = 100) -> list[AssetEvent]:
        with self._reading() as conn:
            rows = self._run(conn, SELECT_EVENTS, (seq, limit)).fetchall()
        return [
            AssetEvent(
                type=r["type"],
                asset_id=r["asset_id"],
                uploader_id=r["uploader_id"],
                at=r["at"],
                asset=_json(r["asset"]),
                event_id=r["event_id"],
                seq=r["seq"],
            )
            for r in rows
        ]

    def _write(self, conn: Connection, old: AssetRecord, new: AssetRecord) -> None:
        if new.asset != old.asset:
            values = asset_values(new.asset)
            self._run(conn, UPDATE_ASSET, (*values[1:], values[0]))
        kept = {j.job_id for j in new.jobs}
        for job in old.jobs:
            if job.job_id not in kept:
                self._run(conn, DELETE_JOB, (new.asset.asset_id, job.job_id))
        before = dict(enumerate(old.jobs))
        for position, job in enumerate(new.jobs):
            if before.get(position) != job:
                self._run(conn, UPSERT_JOB, job_values(new.asset.asset_id, position, job))
