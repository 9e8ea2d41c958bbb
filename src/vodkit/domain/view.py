"""One asset as it is shown: the one view every front door and every webhook derives from.

``public()`` is what the HTTP API answers (its ``AssetOut`` validates exactly these
fields, so a field added here and not there fails its tests, not a user) and what a webhook
delivers. ``to_dict()``, the CLI's ``--json``, adds what only an operator of the server may
see: the upload's key, the jobs and where the outputs are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .asset import Asset, AssetStatus, Job, phase_of, progress_of


@dataclass(frozen=True)
class AssetView:
    asset: Asset
    jobs: tuple[Job, ...] = ()
    locations: dict[str, str] = field(default_factory=dict)  # format -> where it is stored
    playback: dict[str, Any] | None = None  # format -> URL (captions: lang -> URL), if signed
    chunks: dict[str, int] | None = None  # a chunked transcode's: count, done, running, retried

    @property
    def progress(self) -> dict[str, Any] | None:
        """Phase, the phase's percent and ETA of the jobs, while the asset is processed."""
        if self.asset.status is not AssetStatus.PROCESSING or not self.jobs:
            return None
        percent, eta = progress_of(self.jobs)
        return {
            "percent": round(percent, 1),
            "etaSeconds": None if eta is None else round(eta, 1),
            "phase": phase_of(self.jobs),
            **({"chunks": dict(self.chunks)} if self.chunks else {}),
        }

    def public(self) -> dict[str, Any]:
        """What anyone allowed to see the asset is shown (the API, the webhooks)."""
        a = self.asset
        return {
            "assetId": a.asset_id,
            "status": str(a.status),
            "uploaderId": a.uploader_id,
            "filename": a.filename,
            "createdAt": a.created_at,
            "updatedAt": a.updated_at,
            "fileSize": a.file_size,
            "duration": a.duration,
            "kind": a.kind,
            "tracks": [t.public() for t in a.tracks],
            "skipped": [s.public() for s in a.skipped],
            "attempt": a.attempt,
            "progress": self.progress,
            "renditions": [dict(r) for r in a.renditions],
            "errors": [
                {"code": e.code, "message": e.message, "kind": str(e.kind)} for e in a.errors
            ],
            "retryable": a.retryable,
            "playback": None if self.playback is None else dict(self.playback),
        }

    def to_dict(self) -> dict[str, Any]:
        """The public view and the server's own keys and paths (the CLI's ``--json``)."""
        return {
            **self.public(),
            "sourceKey": self.asset.source_key,
            "outputs": dict(self.locations),
            "jobs": [
                {
                    "jobId": j.job_id,
                    "state": str(j.state),
                    "percent": j.percent,
                    "etaSeconds": j.eta_seconds,
                    "phase": j.phase,
                    "runnerId": j.runner_id,
                    "restarts": j.restarts,
                }
                for j in self.jobs
            ],
        }
