"""An in-memory catalog for unit tests, with the same conditional semantics."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ...domain.asset import Asset, AssetError, AssetStatus, Job, JobState, check_transition
from ...domain.clock import isoformat
from ...domain.errors import AssetNotFound, Conflict, IllegalTransition


class MemoryCatalog:
    def __init__(self) -> None:
        self.assets: dict[str, Asset] = {}
        self._jobs: dict[str, list[Job]] = {}
        self._lock = threading.RLock()

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        with self._lock:
            if asset.asset_id in self.assets:
                return self.assets[asset.asset_id], False
            self.assets[asset.asset_id] = asset
            self._jobs[asset.asset_id] = []
            return asset, True

    def get(self, asset_id: str) -> Asset | None:
        with self._lock:
            return self.assets.get(asset_id)

    def _require(self, asset_id: str) -> Asset:
        asset = self.assets.get(asset_id)
        if asset is None:
            raise AssetNotFound(f"no asset {asset_id}")
        return asset

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
    ) -> list[Asset]:
        with self._lock:
            rows = [
                a
                for a in self.assets.values()
                if (status is None or a.status == status)
                and (uploader_id is None or a.uploader_id == uploader_id)
            ]
        rows.sort(key=lambda a: (a.created_at, a.asset_id), reverse=True)
        return rows[:limit]

    def has_source(self, bucket: str, key: str) -> bool:
        with self._lock:
            return any(
                a.source_bucket == bucket and a.source_key == key for a in self.assets.values()
            )

    def _transition(
        self, asset: Asset, target: AssetStatus, now: datetime, **changes: Any
    ) -> Asset:
        try:
            check_transition(asset.status, target)
        except IllegalTransition as exc:
            raise Conflict(str(exc)) from exc
        updated = replace(asset, status=target, updated_at=isoformat(now), **changes)
        self.assets[asset.asset_id] = updated
        return updated

    def start_processing(
        self,
        asset_id: str,
        jobs: Sequence[Job],
        *,
        formats: Sequence[str],
        renditions: Sequence[dict[str, Any]],
        now: datetime,
    ) -> Asset:
        with self._lock:
            asset = self._require(asset_id)
            if asset.status is not AssetStatus.PENDING:
                raise Conflict(f"asset {asset_id} is {asset.status}, not PENDING")
            self._jobs[asset_id] = [replace(j, updated_at=isoformat(now)) for j in jobs]
            return self._transition(
                asset,
                AssetStatus.PROCESSING,
                now,
                job_ids=tuple(j.job_id for j in jobs),
                formats=tuple(formats),
                renditions=tuple(dict(r) for r in renditions),
            )

    def jobs(self, asset_id: str) -> list[Job]:
        with self._lock:
            return list(self._jobs.get(asset_id, []))

    def _update_job(self, asset_id: str, job_id: str, **changes: Any) -> bool:
        """Apply ``changes`` to a job that has not ended; False if ended or unknown."""
        jobs = self._jobs.get(asset_id, [])
        for i, job in enumerate(jobs):
            if job.job_id == job_id:
                if job.state.terminal:
                    return False
                jobs[i] = replace(job, **changes)
                return True
        return False

    def record_progress(
        self,
        asset_id: str,
        job_id: str,
        percent: float,
        now: datetime,
        eta_seconds: float | None = None,
    ) -> None:
        with self._lock:
            self._require(asset_id)
            self._update_job(
                asset_id,
                job_id,
                state=JobState.PROGRESSING,
                percent=percent,
                eta_seconds=eta_seconds,
                updated_at=isoformat(now),
            )

    def complete_job(
        self, asset_id: str, job_id: str, outputs: dict[str, str], now: datetime
    ) -> bool:
        with self._lock:
            asset = self._require(asset_id)
            self._update_job(
                asset_id,
                job_id,
                state=JobState.COMPLETE,
                percent=100.0,
                eta_seconds=0.0,
                outputs=dict(outputs),
                updated_at=isoformat(now),
            )
            jobs = self._jobs[asset_id]
            if asset.status is not AssetStatus.PROCESSING or not all(
                j.state is JobState.COMPLETE for j in jobs
            ):
                return False
            merged: dict[str, str] = {}
            for j in jobs:
                merged.update(j.outputs)
            self._transition(asset, AssetStatus.COMPLETED, now, outputs=merged)
            return True

    def fail(
        self, asset_id: str, error: AssetError, now: datetime, *, job_id: str | None = None
    ) -> bool:
        with self._lock:
            asset = self._require(asset_id)
            if job_id:
                self._update_job(asset_id, job_id, state=JobState.ERROR, updated_at=isoformat(now))
            if asset.status is AssetStatus.COMPLETED:
                return False
            stamped = replace(error, at=error.at or isoformat(now), job_id=job_id or error.job_id)
            errors = (*asset.errors, stamped)
            if asset.status is AssetStatus.FAILED:
                self.assets[asset_id] = replace(asset, errors=errors, updated_at=isoformat(now))
                return False
            self._transition(asset, AssetStatus.FAILED, now, errors=errors)
            return True

    def retry(self, asset_id: str, now: datetime) -> Asset:
        with self._lock:
            asset = self._require(asset_id)
            if asset.status is not AssetStatus.FAILED:
                raise Conflict(
                    f"asset {asset_id} is {asset.status}; only FAILED assets can be retried"
                )
            self._jobs[asset_id] = []
            return self._transition(
                asset, AssetStatus.PENDING, now, attempt=asset.attempt + 1, job_ids=()
            )
