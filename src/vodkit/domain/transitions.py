"""The catalog's updates as pure functions of an asset and its jobs.

Every catalog (the in-memory fake, SQLite and any SQL engine, DynamoDB's single
item) applies these to the record it read and writes the result only if the
record is unchanged since (a lock, a row held by the transaction, or a
condition on its version), so every decision is atomic and made once, here.
``None`` means "write nothing": once an asset is COMPLETED, FAILED or DELETED,
duplicate or late events leave it exactly as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from . import sidecars
from .asset import Asset, AssetError, AssetStatus, Job, JobState
from .clock import isoformat
from .errors import Conflict
from .tracks import Track, Tracks


@dataclass(frozen=True)
class AssetRecord:
    asset: Asset
    jobs: tuple[Job, ...] = ()

    def _job(self, job_id: str) -> Job | None:
        return next((j for j in self.jobs if j.job_id == job_id), None)

    def _with_job(self, job: Job) -> tuple[Job, ...]:
        return tuple(job if j.job_id == job.job_id else j for j in self.jobs)


def start(
    record: AssetRecord,
    jobs: Sequence[Job],
    *,
    formats: Sequence[str],
    renditions: Sequence[dict[str, Any]],
    now: datetime,
    duration: float | None = None,
    tracks: Tracks | None = None,
    kind: str = "video",
) -> AssetRecord:
    """PENDING -> PROCESSING with the jobs (the kind, and the tracks planned followed by the
    captions added meanwhile) recorded; Conflict from any other status."""
    asset = record.asset
    if asset.status is not AssetStatus.PENDING:
        raise Conflict(f"asset {asset.asset_id} is {asset.status}, not PENDING")
    stamp = isoformat(now)
    return AssetRecord(
        replace(
            asset.transition(AssetStatus.PROCESSING, now),
            job_ids=tuple(j.job_id for j in jobs),
            formats=tuple(formats),
            renditions=tuple(dict(r) for r in renditions),
            duration=duration,
            tracks=sidecars.merged(tracks.kept if tracks else (), asset.tracks),
            skipped=tracks.skipped if tracks else (),
            kind=kind,
        ),
        tuple(replace(j, updated_at=stamp) for j in jobs),
    )


def _open_job(record: AssetRecord, job_id: str) -> Job | None:
    """The job, if the asset is PROCESSING and the job has not ended."""
    job = record._job(job_id)
    if record.asset.status is not AssetStatus.PROCESSING or job is None or job.state.terminal:
        return None
    return job


def submitted(
    record: AssetRecord, job_id: str, runner_id: str, now: datetime
) -> AssetRecord | None:
    """Note the id a job's runner gave it, once: a job that has one is never submitted again."""
    job = _open_job(record, job_id)
    if job is None or job.runner_id:
        return None
    return replace(
        record, jobs=record._with_job(replace(job, runner_id=runner_id, updated_at=isoformat(now)))
    )


def claimed(
    record: AssetRecord, job_id: str, owner: str, until: float, at: float, now: datetime
) -> tuple[AssetRecord | None, bool]:
    """Lease the job to ``owner`` until ``until`` if no live lease holds it (``at`` is the
    time now, as a number); True iff ``owner`` holds it now. Its owner extends it so."""
    job = _open_job(record, job_id)
    if job is None:
        return None, False
    if job.lease_owner not in ("", owner) and job.lease_until > at:
        return None, False  # a live worker runs it
    leased = replace(job, lease_owner=owner, lease_until=until, updated_at=isoformat(now))
    return replace(record, jobs=record._with_job(leased)), True


def released(
    record: AssetRecord, job_id: str, owner: str, now: datetime
) -> tuple[AssetRecord | None, bool]:
    """``owner`` gives its lease up (its attempt failed; a retry follows): the job waits
    unclaimed again, not as one whose worker died. True iff it held it."""
    job = _open_job(record, job_id)
    if job is None or job.lease_owner != owner:
        return None, False
    freed = replace(job, lease_owner="", lease_until=0.0, updated_at=isoformat(now))
    return replace(record, jobs=record._with_job(freed)), True


def restarted(
    record: AssetRecord, job_id: str, at: float, now: datetime, unclaimed_before: str = ""
) -> tuple[AssetRecord | None, int]:
    """Free the job of an expired lease (its worker died), or one never claimed since before
    ``unclaimed_before`` (its message was lost), to be handed out again; how many times it
    has been (0: nothing to do, the lease is live, the job waits its turn or ended)."""
    job = _open_job(record, job_id)
    if job is None:
        return None, 0
    expired = bool(job.lease_owner) and job.lease_until <= at
    lost = (
        not job.lease_owner
        and job.state is JobState.SUBMITTED
        and job.updated_at < unclaimed_before
    )
    if not (expired or lost):
        return None, 0
    again = replace(job, lease_owner="", lease_until=0.0, restarts=job.restarts + 1,
                    state=JobState.SUBMITTED, updated_at=isoformat(now))  # fmt: skip
    return replace(record, jobs=record._with_job(again)), again.restarts


def progress(
    record: AssetRecord,
    job_id: str,
    percent: float,
    eta: float | None,
    now: datetime,
    phase: str = "",
) -> AssetRecord | None:
    job = _open_job(record, job_id)
    if job is None:
        return None
    moved = replace(
        job,
        state=JobState.PROGRESSING,
        percent=percent,
        eta_seconds=eta,
        phase=phase,
        updated_at=isoformat(now),
    )
    return replace(record, jobs=record._with_job(moved))


def renditions(
    record: AssetRecord,
    job_id: str,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    tracks: Tracks | None = None,
) -> AssetRecord | None:
    """Replace the planned renditions with what the job made of them (its chosen rates
    and measured bitrates), and the planned tracks with those it kept (the sidecar captions
    stay), while the job is open."""
    if _open_job(record, job_id) is None:
        return None
    asset = replace(
        record.asset, renditions=tuple(dict(r) for r in rows), updated_at=isoformat(now)
    )
    if tracks is not None:
        kept = sidecars.merged(tracks.kept, record.asset.tracks)
        asset = replace(asset, tracks=kept, skipped=tracks.skipped)
    return replace(record, asset=asset)


def tracks_set(
    record: AssetRecord, tracks: Sequence[Track], now: datetime
) -> tuple[AssetRecord, Asset]:
    """The asset with exactly ``tracks`` (its captions changed), at any status but DELETED."""
    asset = record.asset
    if asset.status is AssetStatus.DELETED:
        raise Conflict(f"asset {asset.asset_id} is deleted")
    changed = replace(asset, tracks=tuple(tracks), updated_at=isoformat(now))
    return replace(record, asset=changed), changed


def tracks_changed(
    record: AssetRecord, change: Callable[[Asset], Sequence[Track]], now: datetime
) -> tuple[AssetRecord | None, Asset]:
    """The asset with the tracks ``change`` makes of the stored asset's (a caption added or
    removed), at any status but DELETED; nothing written if they are the same."""
    asset = record.asset
    if asset.status is AssetStatus.DELETED:
        raise Conflict(f"asset {asset.asset_id} is deleted")
    tracks = tuple(change(asset))
    if tracks == asset.tracks:
        return None, asset
    changed = replace(asset, tracks=tracks, updated_at=isoformat(now))
    return replace(record, asset=changed), changed


def complete(
    record: AssetRecord, job_id: str, outputs: dict[str, str], now: datetime
) -> tuple[AssetRecord | None, bool]:
    """Record the job COMPLETE; the second value is True iff the asset turned COMPLETED."""
    job = _open_job(record, job_id)
    if job is None:
        return None, False
    done = replace(
        job,
        state=JobState.COMPLETE,
        percent=100.0,
        eta_seconds=0.0,
        outputs=dict(outputs),
        updated_at=isoformat(now),
    )
    jobs = record._with_job(done)
    if not all(j.state is JobState.COMPLETE for j in jobs):
        return AssetRecord(replace(record.asset, updated_at=isoformat(now)), jobs), False
    merged: dict[str, str] = {}
    for j in jobs:
        merged.update(j.outputs)
    asset = replace(record.asset.transition(AssetStatus.COMPLETED, now), outputs=merged)
    return AssetRecord(asset, jobs), True


def fail(
    record: AssetRecord, error: AssetError, now: datetime, job_id: str | None = None
) -> tuple[AssetRecord | None, bool]:
    """-> FAILED with the error (and the job's ERROR); nothing once the asset has ended."""
    asset = record.asset
    if asset.status.terminal:
        return None, False
    stamp = isoformat(now)
    stamped = replace(error, at=error.at or stamp, job_id=job_id or error.job_id)
    jobs = record.jobs
    job = record._job(job_id) if job_id else None
    if job is not None and not job.state.terminal:
        jobs = record._with_job(replace(job, state=JobState.ERROR, updated_at=stamp))
    failed = replace(asset.transition(AssetStatus.FAILED, now), errors=(*asset.errors, stamped))
    return AssetRecord(failed, jobs), True


def delete(record: AssetRecord, now: datetime) -> tuple[AssetRecord | None, bool]:
    """-> DELETED, its outputs forgotten and its open jobs CANCELED; True iff this call did it."""
    if record.asset.status is AssetStatus.DELETED:
        return None, False
    stamp = isoformat(now)
    jobs = tuple(
        j if j.state.terminal else replace(j, state=JobState.CANCELED, updated_at=stamp)
        for j in record.jobs
    )
    deleted = replace(record.asset.transition(AssetStatus.DELETED, now), outputs={})
    return AssetRecord(deleted, jobs), True


def retry(record: AssetRecord, now: datetime) -> AssetRecord:
    """FAILED -> PENDING with the next attempt number and no jobs; Conflict otherwise."""
    asset = record.asset
    if asset.status is not AssetStatus.FAILED:
        raise Conflict(
            f"asset {asset.asset_id} is {asset.status}; only FAILED assets can be retried"
        )
    pending = replace(
        asset.transition(AssetStatus.PENDING, now), attempt=asset.attempt + 1, job_ids=()
    )
    return AssetRecord(pending, ())
