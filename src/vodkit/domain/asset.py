"""Assets, jobs and the one state machine every catalog enforces.

PENDING -> PROCESSING -> COMPLETED | FAILED, plus PENDING -> FAILED (rejected
before any work), FAILED -> PENDING (an explicit retry) and any status ->
DELETED (a tombstone: the id stays taken, so a redelivered upload event or a
late job event can never bring the asset back). Catalogs apply the decisions of
``domain.transitions`` atomically, never as a read followed by a blind write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from .clock import isoformat
from .errors import ErrorKind, IllegalTransition, kind_of, retry_helps
from .tracks import Skipped, Track


class AssetStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    DELETED = "DELETED"

    @property
    def terminal(self) -> bool:
        return self in (AssetStatus.COMPLETED, AssetStatus.FAILED, AssetStatus.DELETED)


_S = AssetStatus
TRANSITIONS: dict[AssetStatus, frozenset[AssetStatus]] = {
    _S.PENDING: frozenset({_S.PROCESSING, _S.FAILED, _S.DELETED}),
    _S.PROCESSING: frozenset({_S.COMPLETED, _S.FAILED, _S.DELETED}),
    _S.COMPLETED: frozenset({_S.DELETED}),
    _S.FAILED: frozenset({_S.PENDING, _S.DELETED}),
    _S.DELETED: frozenset(),
}


def sources_of(target: AssetStatus) -> frozenset[AssetStatus]:
    """The statuses from which ``target`` may be reached."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def check_transition(current: AssetStatus, target: AssetStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"an asset cannot move from {current} to {target}")


class JobState(StrEnum):
    """MediaConvert's job states, which the FFmpeg transcoder reports too."""

    SUBMITTED = "SUBMITTED"
    PROGRESSING = "PROGRESSING"
    COMPLETE = "COMPLETE"
    ERROR = "ERROR"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETE, JobState.ERROR, JobState.CANCELED)


@dataclass(frozen=True)
class AssetError:
    code: str
    message: str
    at: str = ""
    job_id: str | None = None

    @property
    def kind(self) -> ErrorKind:
        return kind_of(self.code)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"code": self.code, "message": self.message, "timestamp": self.at}
        if self.job_id:
            item["jobId"] = self.job_id
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AssetError:
        return cls(
            code=str(item.get("code", "Unknown")),
            message=str(item.get("message", "")),
            at=str(item.get("timestamp", "")),
            job_id=item.get("jobId"),
        )


@dataclass(frozen=True)
class Job:
    """One transcode job of an asset, as the catalog records it."""

    job_id: str
    state: JobState
    percent: float = 0.0  # of its phase
    eta_seconds: float | None = None
    phase: str = ""  # one of PHASES while it runs ("" before its first report)
    request: dict[str, Any] = field(default_factory=dict)  # what was submitted, to resubmit
    outputs: dict[str, str] = field(default_factory=dict)
    updated_at: str = ""
    runner_id: str = ""  # the id its runner gave it (MediaConvert's job id): submitted once
    lease_owner: str = ""  # the worker running it, where runs are leased (the cluster)
    lease_until: float = 0.0  # unix time the lease ends unless its owner extends it
    restarts: int = 0  # times it was handed out again after its worker stopped answering


# A job's phases in order; its percent is its phase's own.
PHASES = ("probing", "analysing", "encoding", "packaging")


def progress_of(jobs: Sequence[Job]) -> tuple[float, float | None]:
    """An asset's percent (the jobs' mean) and ETA (the slowest job's), from its jobs."""
    if not jobs:
        return 0.0, None
    etas = [j.eta_seconds for j in jobs if j.eta_seconds is not None]
    return sum(j.percent for j in jobs) / len(jobs), max(etas) if etas else None


def phase_of(jobs: Sequence[Job]) -> str:
    """The earliest phase among the jobs that report one (the slowest job's), or ""."""
    known = [PHASES.index(j.phase) for j in jobs if j.phase in PHASES]
    return PHASES[min(known)] if known else ""


@dataclass(frozen=True)
class Asset:
    """The catalog item of one upload, with the original design's fields."""

    asset_id: str
    status: AssetStatus
    uploader_id: str
    source_key: str
    created_at: str
    updated_at: str
    file_size: int = 0
    source_bucket: str = ""
    source_version: str = ""  # the S3 version id, or the etag when unversioned
    filename: str = ""
    attempt: int = 1
    job_ids: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)  # format -> object key
    renditions: tuple[dict[str, Any], ...] = ()
    errors: tuple[AssetError, ...] = ()
    duration: float | None = None  # seconds, of the source's video (or sound), once probed
    kind: str = "video"  # what it holds: "video", or "audio" (no pictures: plan.AUDIO)
    tracks: tuple[Track, ...] = ()  # its audio and text tracks, once planned
    skipped: tuple[Skipped, ...] = ()  # the source's tracks it could not keep, and why

    @property
    def retryable(self) -> bool:
        """FAILED for a reason another attempt could change (not a verdict on its file)."""
        if self.status is not AssetStatus.FAILED:
            return False
        return not self.errors or retry_helps(self.errors[-1].code)

    @classmethod
    def new(
        cls,
        *,
        asset_id: str,
        uploader_id: str,
        source_key: str,
        source_bucket: str,
        source_version: str,
        filename: str,
        file_size: int,
        now: datetime,
    ) -> Asset:
        stamp = isoformat(now)
        return cls(
            asset_id=asset_id,
            status=AssetStatus.PENDING,
            uploader_id=uploader_id,
            source_key=source_key,
            source_bucket=source_bucket,
            source_version=source_version,
            filename=filename,
            file_size=file_size,
            created_at=stamp,
            updated_at=stamp,
        )

    def transition(self, target: AssetStatus, now: datetime) -> Asset:
        check_transition(self.status, target)
        return replace(self, status=target, updated_at=isoformat(now))

    def to_item(self) -> dict[str, Any]:
        """The catalog item, in the original design's camelCase shape."""
        return {
            "assetId": self.asset_id,
            "status": str(self.status),
            "uploaderId": self.uploader_id,
            "sourceKey": self.source_key,
            "sourceBucket": self.source_bucket,
            "sourceVersion": self.source_version,
            "filename": self.filename,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "fileSize": self.file_size,
            "attempt": self.attempt,
            "jobIds": list(self.job_ids),
            "formats": list(self.formats),
            "outputs": dict(self.outputs),
            "renditions": [dict(r) for r in self.renditions],
            "errors": [e.to_item() for e in self.errors],
            "duration": self.duration,
            "kind": self.kind,
            "tracks": [t.to_dict() for t in self.tracks],
            "skipped": [s.to_dict() for s in self.skipped],
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Asset:
        return cls(
            asset_id=str(item["assetId"]),
            status=AssetStatus(item["status"]),
            uploader_id=str(item.get("uploaderId", "")),
            source_key=str(item.get("sourceKey", "")),
            source_bucket=str(item.get("sourceBucket", "")),
            source_version=str(item.get("sourceVersion", "")),
            filename=str(item.get("filename", "")),
            created_at=str(item["createdAt"]),
            updated_at=str(item.get("updatedAt", item["createdAt"])),
            file_size=int(item.get("fileSize", 0)),
            attempt=int(item.get("attempt", 1)),
            job_ids=tuple(item.get("jobIds", ())),
            formats=tuple(item.get("formats", ())),
            outputs=dict(item.get("outputs", {})),
            renditions=tuple(dict(r) for r in item.get("renditions", ())),
            errors=tuple(AssetError.from_item(e) for e in item.get("errors", ())),
            duration=None if item.get("duration") is None else float(item["duration"]),
            kind=str(item.get("kind") or "video"),
            tracks=tuple(Track.from_dict(t) for t in item.get("tracks") or ()),
            skipped=tuple(Skipped.from_dict(s) for s in item.get("skipped") or ()),
        )
