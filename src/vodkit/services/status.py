"""The status processor: job-state events -> catalog records -> asset status.

Each event is one atomic catalog call; the catalog decides transitions with
conditional writes, so the asset turns COMPLETED exactly once and an ERROR is
never overwritten. Errors propagate (the original returned a 500 and lost the
update): the transport retries, then dead-letters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..adapters.catalog.base import Catalog
from ..adapters.events.base import EventBus
from ..domain.asset import AssetError, AssetStatus, JobState
from ..domain.clock import Clock, utcnow
from ..domain.errors import AssetNotFound
from ..domain.events import AssetStatusChanged, JobStateChanged
from .messages import decode

log = logging.getLogger(__name__)


class StatusProcessor:
    def __init__(
        self,
        *,
        catalog: Catalog,
        bus: EventBus,
        clock: Clock = utcnow,
        finish: Callable[[JobStateChanged], dict[str, str]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.bus = bus
        self.clock = clock
        # Makes what the job runner could not (MediaConvert: the sprite) before completion.
        self.finish = finish

    def handle_message(self, body: str) -> None:
        self.handle(JobStateChanged.from_eventbridge(decode(body)))

    def handle(self, event: JobStateChanged) -> None:
        now = self.clock()
        if event.status is JobState.PROGRESSING:
            self.catalog.record_progress(
                event.asset_id, event.job_id, event.percent or 0.0, now, event.eta_seconds
            )
        elif event.status is JobState.COMPLETE:
            outputs = event.outputs
            if self.finish is not None and not self._ended(event.asset_id):
                outputs = {**outputs, **self.finish(event)}
            if self.catalog.complete_job(event.asset_id, event.job_id, outputs, now):
                self._announce(event.asset_id, AssetStatus.COMPLETED)
        elif event.status in (JobState.ERROR, JobState.CANCELED):
            error = AssetError(
                code=event.error_code or str(event.status),
                message=event.error_message or f"the transcode job ended {event.status}",
            )
            if self.catalog.fail(event.asset_id, error, now, job_id=event.job_id):
                self._announce(event.asset_id, AssetStatus.FAILED, error)

    def _ended(self, asset_id: str) -> bool:
        asset = self.catalog.get(asset_id)
        return asset is not None and asset.status.terminal

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
