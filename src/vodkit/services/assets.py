"""Assets as a user sees them: upload, list, view, retry. Every front door calls these.

An upload is stored under ``uploads/{uploaderId}/{filename}`` and announced the
way its footprint announces uploads (queued for ingest here, S3's own event on
AWS); its asset id is known at once, derived like the orchestrator derives it.
A retry always queues: no store announces an object that did not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..adapters.catalog.base import Catalog
from ..adapters.queue.base import Queue
from ..adapters.storage.base import ObjectInfo, ObjectStore
from ..domain.asset import Asset, AssetStatus, Job
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import AssetNotFound
from ..domain.events import ObjectCreated
from ..domain.keys import asset_id_for, upload_key
from .ingest import enqueue


class Announcer(Protocol):
    def announce(self, event: ObjectCreated) -> None:
        """Make sure the ingest orchestrator hears of a stored upload."""
        ...


@dataclass(frozen=True)
class AssetView:
    """One asset as every front door shows it (the CLI's ``--json``, the HTTP API)."""

    asset: Asset
    jobs: tuple[Job, ...] = ()
    locations: dict[str, str] = field(default_factory=dict)  # format -> where to find it

    @property
    def progress(self) -> dict[str, float | None] | None:
        """Percent and ETA of the jobs, while the asset is being processed."""
        if self.asset.status is not AssetStatus.PROCESSING or not self.jobs:
            return None
        etas = [j.eta_seconds for j in self.jobs if j.eta_seconds is not None]
        return {
            "percent": round(sum(j.percent for j in self.jobs) / len(self.jobs), 1),
            "etaSeconds": round(max(etas), 1) if etas else None,
        }

    def to_dict(self) -> dict[str, Any]:
        a = self.asset
        return {
            "assetId": a.asset_id,
            "status": str(a.status),
            "uploaderId": a.uploader_id,
            "filename": a.filename,
            "sourceKey": a.source_key,
            "createdAt": a.created_at,
            "updatedAt": a.updated_at,
            "fileSize": a.file_size,
            "attempt": a.attempt,
            "progress": self.progress,
            "outputs": dict(self.locations),
            "renditions": list(a.renditions),
            "jobs": [
                {"jobId": j.job_id, "state": str(j.state), "percent": j.percent} for j in self.jobs
            ],
            "errors": [{"code": e.code, "message": e.message} for e in a.errors],
        }


@dataclass(frozen=True)
class Upload:
    asset_id: str
    key: str  # where it is in the uploads store


class AssetService:
    def __init__(
        self,
        *,
        uploads: ObjectStore,
        outputs: ObjectStore,
        catalog: Catalog,
        ingest_queue: Queue,
        announcer: Announcer,
        clock: Clock = utcnow,
    ) -> None:
        self.uploads = uploads
        self.outputs = outputs
        self.catalog = catalog
        self.ingest_queue = ingest_queue
        self.announcer = announcer
        self.clock = clock

    def upload_file(self, path: Path, uploader_id: str, filename: str | None = None) -> Upload:
        """Store a local file for ``uploader_id`` and announce it."""
        with path.open("rb") as stream:
            return self.upload_stream(stream, uploader_id, filename or path.name)

    def upload_stream(self, stream: BinaryIO, uploader_id: str, filename: str) -> Upload:
        key = upload_key(uploader_id, filename)  # InvalidKey: refused before anything is stored
        return Upload(self.announce(self.uploads.put_stream(key, stream)), key)

    def announce(self, info: ObjectInfo) -> str:
        """Tell ingest of an object in the uploads store; return its asset id."""
        event = ObjectCreated(
            bucket=self.uploads.bucket,
            key=info.key,
            size=info.size,
            etag=info.etag,
            version_id=info.version_id,
            time=isoformat(self.clock()),
        )
        self.announcer.announce(event)
        return asset_id_for(event.bucket, event.key, event.version)

    def get(self, asset_id: str) -> Asset:
        asset = self.catalog.get(asset_id)
        if asset is None:
            raise AssetNotFound(f"no asset {asset_id}")
        return asset

    def view(self, asset: Asset) -> AssetView:
        return AssetView(
            asset=asset,
            jobs=tuple(self.catalog.jobs(asset.asset_id)),
            locations={kind: self.outputs.locate(key) for kind, key in asset.outputs.items()},
        )

    def list(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
    ) -> list[Asset]:
        return self.catalog.query(status=status, uploader_id=uploader_id, limit=limit)

    def retry(self, asset_id: str) -> Asset:
        """FAILED -> PENDING, and its upload queued for ingest again (same asset id)."""
        asset = self.catalog.retry(asset_id, self.clock())
        event = ObjectCreated(
            bucket=asset.source_bucket,
            key=asset.source_key,
            size=asset.file_size,
            etag="",
            version_id=asset.source_version,
            time=isoformat(self.clock()),
        )
        enqueue(self.ingest_queue, event, attempt=asset.attempt)
        return asset
