"""The catalog port.

Every state change is a conditional write decided by the store itself:
``complete_job`` turns the asset COMPLETED in the same atomic step that records
the last job, and only if the asset is still PROCESSING, so the transition
happens exactly once whatever the order, duplication or concurrency of events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ...domain.asset import Asset, AssetError, AssetStatus, Job
from ...domain.outbox import AssetEvent
from ...domain.tracks import Track, Tracks


class Catalog(Protocol):
    def create(self, asset: Asset) -> tuple[Asset, bool]:
        """Insert unless the id exists; return the stored asset and whether it was new."""
        ...

    def get(self, asset_id: str) -> Asset | None: ...

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
        before: tuple[str, str] | None = None,
    ) -> list[Asset]:
        """Newest first, by status or by uploader (both indexed), or all; with ``before``
        (createdAt, assetId), only the assets that come after that one."""
        ...

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
        """Record the jobs (and the source's duration, kind and tracks) and move PENDING ->
        PROCESSING atomically; Conflict otherwise."""
        ...

    def jobs(self, asset_id: str) -> list[Job]: ...

    def record_submission(self, asset_id: str, job_id: str, runner_id: str, now: datetime) -> None:
        """Note the id the job's runner gave it, unless it has one or has ended."""
        ...

    def claim_job(
        self, asset_id: str, job_id: str, owner: str, until: float, at: float, now: datetime
    ) -> bool:
        """Lease the job to ``owner`` until ``until`` (unix time), unless a live lease holds
        it; True iff ``owner`` holds it now (also to extend its own lease)."""
        ...

    def release_job(self, asset_id: str, job_id: str, owner: str, now: datetime) -> bool:
        """``owner`` gives the job's lease up (a retry follows); True iff it held it."""
        ...

    def restart_job(
        self, asset_id: str, job_id: str, at: float, now: datetime, unclaimed_before: str = ""
    ) -> int:
        """Free a job whose lease expired (or, unclaimed, last touched before
        ``unclaimed_before``), to hand it out again; how many times it has been (0: not)."""
        ...

    def record_progress(
        self,
        asset_id: str,
        job_id: str,
        percent: float,
        now: datetime,
        eta_seconds: float | None = None,
        phase: str = "",
    ) -> None:
        """Mark a job PROGRESSING in ``phase`` with its ``percent`` and ETA, unless it
        already ended."""
        ...

    def record_renditions(
        self,
        asset_id: str,
        job_id: str,
        rows: Sequence[dict[str, Any]],
        now: datetime,
        tracks: Tracks | None = None,
    ) -> None:
        """Replace the planned renditions (and tracks, if given) with what the open job
        made of them."""
        ...

    def set_tracks(self, asset_id: str, tracks: Sequence[Track], now: datetime) -> Asset:
        """Replace the asset's tracks outright at any status but DELETED (Conflict); a change
        of its sidecar tracks records ``asset.updated``. A change made from tracks read
        earlier would drop another writer's: such changes go through ``update_tracks``."""
        ...

    def update_tracks(
        self, asset_id: str, change: Callable[[Asset], Sequence[Track]], now: datetime
    ) -> Asset:
        """Replace the asset's tracks with what ``change`` makes of the stored asset's, in one
        atomic step (``change`` may run again if another writer came first: two captions
        changed at once both stay); at any status but DELETED (Conflict), the stored asset
        after it. A change of its sidecar tracks records ``asset.updated``."""
        ...

    def complete_job(
        self, asset_id: str, job_id: str, outputs: dict[str, str], now: datetime
    ) -> bool:
        """Mark the job COMPLETE; return True iff this call turned the asset COMPLETED."""
        ...

    def fail(
        self, asset_id: str, error: AssetError, now: datetime, *, job_id: str | None = None
    ) -> bool:
        """Record the error (and the job's ERROR); True iff this call turned the asset FAILED.

        A COMPLETED asset is never overwritten; a FAILED one only gains the error.
        """
        ...

    def retry(self, asset_id: str, now: datetime) -> Asset:
        """FAILED -> PENDING with a new attempt number and no jobs; Conflict otherwise."""
        ...

    def delete(self, asset_id: str, now: datetime) -> bool:
        """-> DELETED (a tombstone); True iff this call deleted it."""
        ...


class EventLog(Protocol):
    """The status changes a catalog recorded with them (``domain.outbox``), in order, and
    what it holds by status: what the HTTP API's webhooks and metrics read."""

    def events_after(self, seq: int, limit: int = 100) -> list[AssetEvent]: ...

    def counts(self) -> dict[str, int]:
        """Assets by status, now."""
        ...

    def totals(self) -> dict[str, int]:
        """The status changes recorded, by event type (``asset.completed``...): counters that
        only grow, since the log is never pruned, the same whichever process reads them."""
        ...


@runtime_checkable
class SourceIndex(Protocol):
    """A catalog that finds assets by their upload's key (indexed): what the upload
    watchers ask of every object they list."""

    def has_source(self, bucket: str, key: str) -> bool: ...
