"""An in-memory catalog for unit tests: the pure transitions, applied under a lock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ...domain import transitions
from ...domain.asset import Asset, AssetError, AssetStatus, Job
from ...domain.errors import AssetNotFound
from ...domain.transitions import AssetRecord

T = TypeVar("T")


class MemoryCatalog:
    def __init__(self) -> None:
        self.records: dict[str, AssetRecord] = {}
        self._lock = threading.RLock()

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        with self._lock:
            if asset.asset_id in self.records:
                return self.records[asset.asset_id].asset, False
            self.records[asset.asset_id] = AssetRecord(asset)
            return asset, True

    def get(self, asset_id: str) -> Asset | None:
        with self._lock:
            record = self.records.get(asset_id)
            return record.asset if record else None

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
    ) -> list[Asset]:
        with self._lock:
            rows = [
                r.asset
                for r in self.records.values()
                if (status is None or r.asset.status == status)
                and (uploader_id is None or r.asset.uploader_id == uploader_id)
            ]
        rows.sort(key=lambda a: (a.created_at, a.asset_id), reverse=True)
        return rows[:limit]

    def has_source(self, bucket: str, key: str) -> bool:
        with self._lock:
            return any(
                r.asset.source_bucket == bucket and r.asset.source_key == key
                for r in self.records.values()
            )

    def jobs(self, asset_id: str) -> list[Job]:
        with self._lock:
            record = self.records.get(asset_id)
            return list(record.jobs) if record else []

    def _apply(
        self, asset_id: str, change: Callable[[AssetRecord], tuple[AssetRecord | None, T]]
    ) -> T:
        with self._lock:
            record = self.records.get(asset_id)
            if record is None:
                raise AssetNotFound(f"no asset {asset_id}")
            updated, result = change(record)
            if updated is not None:
                self.records[asset_id] = updated
            return result

    def start_processing(
        self,
        asset_id: str,
        jobs: Sequence[Job],
        *,
        formats: Sequence[str],
        renditions: Sequence[dict[str, Any]],
        now: datetime,
    ) -> Asset:
        def change(record: AssetRecord) -> tuple[AssetRecord, Asset]:
            started = transitions.start(
                record, jobs, formats=formats, renditions=renditions, now=now
            )
            return started, started.asset

        return self._apply(asset_id, change)

    def record_progress(
        self,
        asset_id: str,
        job_id: str,
        percent: float,
        now: datetime,
        eta_seconds: float | None = None,
    ) -> None:
        self._apply(
            asset_id, lambda r: (transitions.progress(r, job_id, percent, eta_seconds, now), None)
        )

    def complete_job(
        self, asset_id: str, job_id: str, outputs: dict[str, str], now: datetime
    ) -> bool:
        return self._apply(asset_id, lambda r: transitions.complete(r, job_id, outputs, now))

    def fail(
        self, asset_id: str, error: AssetError, now: datetime, *, job_id: str | None = None
    ) -> bool:
        return self._apply(asset_id, lambda r: transitions.fail(r, error, now, job_id))

    def retry(self, asset_id: str, now: datetime) -> Asset:
        def change(record: AssetRecord) -> tuple[AssetRecord, Asset]:
            pending = transitions.retry(record, now)
            return pending, pending.asset

        return self._apply(asset_id, change)
