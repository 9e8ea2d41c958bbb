"""Following an asset until it is COMPLETED or FAILED, with its progress on the way."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..adapters.catalog.base import Catalog
from ..adapters.queue.base import Queue
from ..domain.asset import Asset, AssetStatus, progress_of
from ..domain.errors import VodkitError


@dataclass(frozen=True)
class Progress:
    """What a follower sees of an asset that has not ended."""

    stage: str  # QUEUED (no asset yet), PENDING or PROCESSING
    percent: float = 0.0
    eta_seconds: float | None = None


ProgressCallback = Callable[[Progress], None]


class Follower:
    def __init__(
        self,
        catalog: Catalog,
        ingest_queue: Queue,
        *,
        delivery_grace: float = 0.0,
        poll: float = 0.3,
    ) -> None:
        self.catalog = catalog
        self.ingest_queue = ingest_queue
        # How long an upload may have neither an asset nor a queued message: none where it
        # was queued before we started; the store's event delivery time where it announces.
        self.delivery_grace = delivery_grace
        self.poll = poll

    def follow(
        self,
        asset_id: str,
        on_progress: ProgressCallback = lambda progress: None,
        stop: threading.Event | None = None,
    ) -> Asset | None:
        """The asset once it has ended; None if ``stop`` was set first.

        Raises VodkitError if no asset will come: its ingest message was dead-lettered.
        """
        stop = stop or threading.Event()
        started = time.monotonic()
        while not stop.is_set():
            asset = self.catalog.get(asset_id)
            if asset is None:
                if self._lost(asset_id, time.monotonic() - started):
                    raise VodkitError(
                        f"the ingest message of {asset_id} was dead-lettered or never "
                        "delivered: see `vodkit dlq list`"
                    )
                on_progress(Progress("QUEUED"))
            elif asset.status.terminal:
                return asset
            elif asset.status is AssetStatus.PROCESSING and (jobs := self.catalog.jobs(asset_id)):
                on_progress(Progress("PROCESSING", *progress_of(jobs)))
            else:
                on_progress(Progress(str(asset.status)))
            stop.wait(self.poll)
        return None

    def _lost(self, asset_id: str, waited: float) -> bool:
        depth = self.ingest_queue.depth()
        return (
            depth.visible == depth.in_flight == 0
            and waited >= self.delivery_grace
            and self.catalog.get(asset_id) is None  # not created while we looked at the queue
        )
