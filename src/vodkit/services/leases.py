"""Transcodes run under a lease in the catalog, and a reaper for those whose worker died.

On the cluster a transcode is acknowledged to the broker when it starts, so its own
delivery does not wait unacknowledged for the hours a transcode may take (RabbitMQ
closes a channel whose delivery waits past ``consumer_timeout``, 30 min by
default; the message a busy worker prefetches still does: see the cluster
footprint). What keeps the job from being lost is its lease: the worker holds the
job in the catalog and extends the lease while it works; a reaper, in every worker,
hands out again the jobs whose lease expired (their worker died), and fails an
asset whose job keeps losing its workers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from ..adapters.catalog.base import Catalog
from ..adapters.events.base import EventBus
from ..adapters.transcoder.base import JobSubmitter
from ..domain.asset import AssetError, AssetStatus
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import ErrorCode
from ..domain.events import AssetStatusChanged
from ..domain.jobs import TranscodeJob

log = logging.getLogger(__name__)


class LeasedRuns:
    def __init__(
        self,
        catalog: Catalog,
        *,
        owner: str,
        lease: float = 60.0,
        now: Callable[[], float] = time.time,
        clock: Clock = utcnow,
    ) -> None:
        self.catalog = catalog
        self.owner = owner
        self.lease = lease
        self.now = now
        self.clock = clock

    def _claim(self, job: TranscodeJob) -> bool:
        at = self.now()
        return self.catalog.claim_job(
            job.asset_id, job.job_id, self.owner, at + self.lease, at, self.clock()
        )

    def run(self, job: TranscodeJob, work: Callable[[], object]) -> bool:
        """Run ``work`` holding the job's lease; False if another live worker holds it."""
        if not self._claim(job):
            log.info("job %s skipped: another worker holds it, or it ended", job.job_id)
            return False
        stop = threading.Event()

        def heartbeat() -> None:
            while not stop.wait(self.lease / 3):
                try:
                    if not self._claim(job):
                        log.warning("job %s: its lease went to another worker", job.job_id)
                        return
                except Exception:  # a busy database: the next beat tries again
                    log.exception("job %s: could not extend its lease", job.job_id)

        beat = threading.Thread(target=heartbeat, name=f"lease-{job.job_id[-8:]}", daemon=True)
        beat.start()
        try:
            work()
        except BaseException:  # free it at once for the retry: no worker died
            self._release(job)
            raise
        finally:
            stop.set()
            beat.join()
        return True

    def renew(self, job: TranscodeJob) -> bool:
        """Take or extend the job's lease for ``owner`` without running anything here: a
        chunked job's pieces renew it as each begins and ends, so the reaper starts the job
        again (its unfinished pieces) only once none has moved for a whole lease."""
        return self._claim(job)

    def hand_over(self, job: TranscodeJob, to: LeasedRuns) -> bool:
        """Hand the job's lease to ``to`` once this worker's run of it is over but not the
        job (a chunked job's pieces run on as tasks of their own)."""
        self._release(job)
        return to.renew(job)

    def _release(self, job: TranscodeJob) -> None:
        try:
            self.catalog.release_job(job.asset_id, job.job_id, self.owner, self.clock())
        except Exception:  # the lease then runs out by itself
            log.warning("job %s: could not release its lease", job.job_id, exc_info=True)


class Reaper:
    def __init__(
        self,
        catalog: Catalog,
        submitter: JobSubmitter,
        bus: EventBus,
        *,
        max_restarts: int = 3,
        lost_after: float = 6 * 3600.0,
        idle_lost_after: float = 600.0,
        idle: Callable[[], bool] = lambda: False,
        period: float = 10.0,
        now: Callable[[], float] = time.time,
        clock: Clock = utcnow,
    ) -> None:
        self.catalog = catalog
        self.submitter = submitter
        self.bus = bus
        self.max_restarts = max_restarts  # an asset whose job lost its worker more fails
        # A job never claimed lost its message (a worker died between taking it and leasing
        # the job): after ``lost_after``, or sooner, ``idle_lost_after``, if ``idle()`` says
        # no message waits in the queue. A message a busy worker holds in reserve may then be
        # sent twice; the job's lease keeps it from running twice.
        self.lost_after = lost_after
        self.idle_lost_after = idle_lost_after
        self.idle = idle
        self.period = period  # seconds between sweeps
        self.now = now
        self.clock = clock

    def sweep(self) -> int:
        """Hand out again every job whose worker died; how many were."""
        handed = 0
        lost_after = self.idle_lost_after if self._idle() else self.lost_after
        unclaimed_before = isoformat(self.clock() - timedelta(seconds=lost_after))
        for asset in self.catalog.query(status=AssetStatus.PROCESSING, limit=1000):
            for job in self.catalog.jobs(asset.asset_id):
                if job.state.terminal:
                    continue
                restarts = self.catalog.restart_job(
                    asset.asset_id, job.job_id, self.now(), self.clock(), unclaimed_before
                )
                if not restarts:
                    continue
                if restarts > self.max_restarts:
                    self._fail(asset.asset_id, asset.uploader_id, restarts)
                    continue
                log.warning("job %s: its worker stopped answering; handed out again (%d)",
                            job.job_id, restarts)  # fmt: skip
                self.submitter.submit(TranscodeJob.from_dict(job.request))
                handed += 1
        return handed

    def _idle(self) -> bool:
        try:
            return self.idle()
        except Exception:  # the broker cannot say: assume work is waiting
            log.warning("could not tell whether the queue is idle", exc_info=True)
            return False

    def _fail(self, asset_id: str, uploader_id: str, restarts: int) -> None:
        message = f"the transcode's worker stopped answering {restarts - 1} times"
        error = AssetError(str(ErrorCode.WORKER_LOST), message)
        if self.catalog.fail(asset_id, error, self.clock()):
            self.bus.publish(
                AssetStatusChanged(asset_id, AssetStatus.FAILED, uploader_id, error.code, message)
            )

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.period):
            try:
                self.sweep()
            except Exception:  # a busy database: next time
                log.exception("reaping stalled jobs failed")
