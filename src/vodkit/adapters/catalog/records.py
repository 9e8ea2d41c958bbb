"""The catalog's writes, for every store: read the record, decide, write it back.

A subclass supplies ``_apply``: read an asset with its jobs, run the change,
and store what it returns only if the record did not change meanwhile (a
lock, or a condition on a version). The decisions themselves are
``domain.transitions``, written once for every catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from ...domain import transitions
from ...domain.asset import Asset, AssetError, Job
from ...domain.tracks import Track, Tracks
from ...domain.transitions import AssetRecord

T = TypeVar("T")
Change = Callable[[AssetRecord], tuple[AssetRecord | None, T]]


class RecordCatalog:
    def _apply(self, asset_id: str, change: Change[T]) -> T:
        """Apply ``change`` atomically; AssetNotFound if there is no such asset."""
        raise NotImplementedError

    def start_processing(
        self,
        asset_id: str,
        jobs: Sequence[Job],
        *,
        formats: Sequence[str],
        renditions: Sequence[dict[str, Any]],
        now: datetime,
        duration: float | None = None,
        tracks: Tracks | None = None,
        kind: str = "video",
    ) -> Asset:
        def change(record: AssetRecord) -> tuple[AssetRecord, Asset]:
            started = transitions.start(
                record,
                jobs,
                formats=formats,
                renditions=renditions,
                now=now,
                duration=duration,
                tracks=tracks,
                kind=kind,
            )
            return started, started.asset

        return self._apply(asset_id, change)

    def record_submission(self, asset_id: str, job_id: str, runner_id: str, now: datetime) -> None:
        self._apply(asset_id, lambda r: (transitions.submitted(r, job_id, runner_id, now), None))

    def claim_job(
        self, asset_id: str, job_id: str, owner: str, until: float, at: float, now: datetime
    ) -> bool:
        return self._apply(
            asset_id, lambda r: transitions.claimed(r, job_id, owner, until, at, now)
        )

    def release_job(self, asset_id: str, job_id: str, owner: str, now: datetime) -> bool:
        return self._apply(asset_id, lambda r: transitions.released(r, job_id, owner, now))

    def restart_job(
        self, asset_id: str, job_id: str, at: float, now: datetime, unclaimed_before: str = ""
    ) -> int:
        return self._apply(
            asset_id, lambda r: transitions.restarted(r, job_id, at, now, unclaimed_before)
        )

    def record_progress(
        self,
        asset_id: str,
        job_id: str,
        percent: float,
        now: datetime,
        eta_seconds: float | None = None,
        phase: str = "",
    ) -> None:
        self._apply(
            asset_id,
            lambda r: (transitions.progress(r, job_id, percent, eta_seconds, now, phase), None),
        )

    def record_renditions(
        self,
        asset_id: str,
        job_id: str,
        rows: Sequence[dict[str, Any]],
        now: datetime,
        tracks: Tracks | None = None,
    ) -> None:
        self._apply(
            asset_id, lambda r: (transitions.renditions(r, job_id, rows, now, tracks), None)
        )

    def set_tracks(self, asset_id: str, tracks: Sequence[Track], now: datetime) -> Asset:
        return self._apply(asset_id, lambda r: transitions.tracks_set(r, tracks, now))

    def update_tracks(
        self, asset_id: str, change: Callable[[Asset], Sequence[Track]], now: datetime
    ) -> Asset:
        return self._apply(asset_id, lambda r: transitions.tracks_changed(r, change, now))

    def complete_job(
        self, asset_id: str, job_id: str, outputs: dict[str, str], now: datetime
    ) -> bool:
        return self._apply(asset_id, lambda r: transitions.complete(r, job_id, outputs, now))

    def fail(
        self, asset_id: str, error: AssetError, now: datetime, *, job_id: str | None = None
    ) -> bool:
        return self._apply(asset_id, lambda r: transitions.fail(r, error, now, job_id))

    def delete(self, asset_id: str, now: datetime) -> bool:
        return self._apply(asset_id, lambda r: transitions.delete(r, now))

    def retry(self, asset_id: str, now: datetime) -> Asset:
        def change(record: AssetRecord) -> tuple[AssetRecord, Asset]:
            pending = transitions.retry(record, now)
            return pending, pending.asset

        return self._apply(asset_id, change)
