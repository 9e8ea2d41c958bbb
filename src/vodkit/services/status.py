"""The status processor: job-state events -> catalog records -> asset status.

Each event is one atomic catalog call; the catalog decides transitions with
conditional writes, so the asset turns COMPLETED exactly once and an ERROR is
never overwritten. Errors propagate (the original returned a 500 and lost the
update): the transport retries, then dead-letters.

Captions added while the asset was processing are published with it (``CaptionService.
settle``): into the job's manifests before the asset completes, and again after, for one
added in between; on every COMPLETE event, so a redelivery repairs what a crash left.
"""

from __future__ import annotations

import logging

from ..adapters.catalog.base import Catalog
from ..adapters.events.base import EventBus
from ..adapters.transcoder.base import JobFinisher, NothingToFinish
from ..domain.asset import AssetError, AssetStatus, JobState
from ..domain.clock import Clock, utcnow
from ..domain.errors import AssetNotFound, ErrorCode
from ..domain.events import AssetStatusChanged, JobStateChanged
from .captions import CaptionService

log = logging.getLogger(__name__)


class StatusProcessor:
    def __init__(
        self,
        *,
        catalog: Catalog,
        bus: EventBus,
        clock: Clock = utcnow,
        finisher: JobFinisher | None = None,
        captions: CaptionService | None = None,
    ) -> None:
        self.catalog = catalog
        self.captions = captions
        self.bus = bus
        self.clock = clock
        self.finisher: JobFinisher = finisher or NothingToFinish()

    def handle(self, event: JobStateChanged) -> None:
        now = self.clock()
        if event.status is JobState.PROGRESSING:
            self.catalog.record_progress(
                event.asset_id,
                event.job_id,
                event.percent or 0.0,
                now,
                event.eta_seconds,
                event.phase,
            )
        elif event.status is JobState.COMPLETE:
            outputs = {**event.outputs, **self._finish(event)}
            if self.captions:
                self.captions.settle(event.asset_id, outputs)
            if self.catalog.complete_job(event.asset_id, event.job_id, outputs, now):
                self._announce(event.asset_id, AssetStatus.COMPLETED)
            if self.captions:
                self.captions.settle(event.asset_id)
        elif event.status in (JobState.ERROR, JobState.CANCELED):
            error = AssetError(
                code=event.error_code or ErrorCode.INTERNAL_ERROR,
                message=event.error_message or f"the transcode job ended {event.status}",
            )
            if self.catalog.fail(event.asset_id, error, now, job_id=event.job_id):
                self._announce(event.asset_id, AssetStatus.FAILED, error)

    def _finish(self, event: JobStateChanged) -> dict[str, str]:
        """What the runner could not make (MediaConvert: the sprite), before completion only."""
        if not self.finisher.makes:
            return {}
        asset = self.catalog.get(event.asset_id)
        if asset is None or asset.status.terminal:
            return {}  # an unknown asset is refused by the catalog itself, below
        job = next((j for j in self.catalog.jobs(event.asset_id) if j.job_id == event.job_id), None)
        return self.finisher.finish(event.asset_id, job) if job else {}

    def _announce(
        self, asset_id: str, status: AssetStatus, error: AssetError | None = None
    ) -> None:
        asset = self.catalog.get(asset_id)
        if asset is None:
            raise AssetNotFound(f"no asset {asset_id}")
        log.info("asset %s is %s", asset_id, status)
        self.bus.publish(
            AssetStatusChanged(
                asset_id,
                status,
                asset.uploader_id,
                error.code if error else "",
                error.message if error else "",
            )
        )
