"""Running a submitted job with the local transcoder (embedded and cluster workers).

This is what MediaConvert does in the AWS footprint: take a job, emit
PROGRESSING events with percent and ETA, write the outputs, publish them with
the manifests last, and emit COMPLETE (or ERROR for bad input). It is
idempotent: a job the catalog already records as ended is not run again.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..adapters.catalog.base import Catalog
from ..adapters.events.base import EventBus
from ..adapters.metrics.base import Metrics
from ..adapters.probe.base import Prober
from ..adapters.storage.base import ObjectStore, file_etag
from ..adapters.transcoder.base import Progress, ProgressCallback, TranscodeOutput, Transcoder
from ..domain.asset import AssetStatus, JobState
from ..domain.clock import Clock, isoformat, utcnow
from ..domain.errors import AssetNotFound, ErrorCode, Failure, ObjectNotFound
from ..domain.events import JobStateChanged
from ..domain.jobs import TranscodeJob
from ..domain.keys import asset_id_for
from ..domain.ladder import PlanningRules, plan_transcode
from ..domain.plan import Measured, TranscodePlan, recorded
from ..domain.presets import Presets
from ..domain.tracks import Tracks
from .analysis import Report, SourceAnalysis, encoder_of
from .consumer import Interrupted
from .messages import decode

log = logging.getLogger(__name__)
PRESET_NAME = "vodkit"


def publish(
    store: ObjectStore, workdir: Path, output: TranscodeOutput, prefix: str
) -> dict[str, str]:
    """Upload in the output's order (manifests last); return format -> key."""
    for relative in output.files:
        store.put_file(prefix + relative, workdir / relative)
    return {kind: prefix + relative for kind, relative in output.outputs.items()}


@runtime_checkable
class Measuring(Protocol):
    """A transcoder that can say what it wrote: video b/s and codecs per rendition."""

    def measure(self, plan: TranscodePlan, workdir: Path) -> dict[str, Measured]: ...


def measured(transcoder: object, plan: TranscodePlan, workdir: Path) -> TranscodePlan:
    """The plan with what the encode measured, where the transcoder can tell."""
    if not isinstance(transcoder, Measuring):
        return plan
    return recorded(plan, transcoder.measure(plan, workdir))


class Cancelled(Exception):
    """The asset was deleted while its job ran."""


class FileTranscoding:
    """The one-shot use case: probe, plan, transcode and publish one local file into a store,
    with no catalog and no queue. Bad input raises a Failure, as everywhere else."""

    def __init__(
        self,
        *,
        prober: Prober,
        transcoder: Transcoder,
        presets: Presets,
        rules: PlanningRules | None = None,
    ) -> None:
        self.prober = prober
        self.transcoder = transcoder
        self.rules = rules or PlanningRules()
        self.presets = presets.validate(self.rules)

    @staticmethod
    def asset_id(source: Path) -> str:
        """The id a file's outputs are known by: its path and content."""
        return asset_id_for("file", str(source.resolve()), file_etag(source)[1])

    def run(
        self,
        source: Path,
        store: ObjectStore,
        work_root: Path,
        *,
        on_plan: Callable[[TranscodePlan], None] = lambda plan: None,
        on_phase: Report = lambda phase, percent: None,
        on_progress: ProgressCallback = lambda progress: None,
    ) -> dict[str, str]:
        """Format -> key in ``store``. ``on_phase`` hears each phase as it starts (probing,
        analysing with its percent, encoding, packaging), as a job's progress names them;
        ``on_progress`` the encoding's percent and time left."""
        self.transcoder.check()
        on_phase("probing", 0.0)
        plan = plan_transcode(self.prober.probe(source), self.presets, self.rules)
        on_plan(plan)
        with tempfile.TemporaryDirectory(prefix="vodkit-", dir=work_root) as tmp:
            analysis = SourceAnalysis(encoder_of(self.transcoder))
            plan = analysis.prepare(plan, source, Path(tmp), report=on_phase)
            on_phase("encoding", 0.0)
            output = self.transcoder.transcode(plan, source, Path(tmp), on_progress)
            on_phase("packaging", 0.0)
            made = plan.dropping(output.dropped)
            on_plan(measured(self.transcoder, made, Path(tmp)))  # what was chosen and made
            return publish(store, Path(tmp), output, "")


class TranscodeService:
    def __init__(
        self,
        *,
        uploads: ObjectStore,
        outputs: ObjectStore,
        catalog: Catalog,
        transcoder: Transcoder,
        bus: EventBus,
        metrics: Metrics,
        work_root: Path,
        clock: Clock = utcnow,
        progress_interval: float = 1.0,
    ) -> None:
        self.uploads = uploads
        self.outputs = outputs
        self.catalog = catalog
        self.transcoder = transcoder
        self.bus = bus
        self.metrics = metrics
        self.work_root = work_root
        self.clock = clock
        self.progress_interval = progress_interval
        self.interrupted = threading.Event()  # set: the job in hand stops, FFmpeg killed
        self.analysis = SourceAnalysis(encoder_of(transcoder))

    def handle_message(self, body: str) -> None:
        self.run(TranscodeJob.from_dict(decode(body)))

    def _should_run(self, job: TranscodeJob) -> bool:
        asset = self.catalog.get(job.asset_id)
        if asset is None:
            raise AssetNotFound(f"job {job.job_id} names an unknown asset {job.asset_id}")
        if asset.status is not AssetStatus.PROCESSING:
            log.info("job %s skipped: asset %s is %s", job.job_id, job.asset_id, asset.status)
            return False
        record = next((j for j in self.catalog.jobs(job.asset_id) if j.job_id == job.job_id), None)
        if record is None or record.state.terminal:
            log.info("job %s skipped: already ended or superseded", job.job_id)
            return False
        return True

    def run(self, job: TranscodeJob) -> None:
        if not self._should_run(job):
            return
        started = time.monotonic()
        last_check = 0.0

        def still_wanted() -> bool:
            """Raises if the worker stops or the asset was deleted (FFmpeg is killed on the
            way out); True once a progress interval, when the catalog was asked."""
            nonlocal last_check
            if self.interrupted.is_set():
                raise Interrupted
            now = time.monotonic()
            if now - last_check < self.progress_interval:
                return False
            last_check = now
            if self._deleted(job):
                raise Cancelled(job.asset_id)
            return True

        shown = ""

        def report(phase: str, percent: float, eta: float | None = None) -> None:
            """A phase's progress: its first report always (so a new phase never waits a
            progress interval), then once a progress interval."""
            nonlocal shown
            if still_wanted() or phase != shown:
                shown = phase
                self._emit(job, JobState.PROGRESSING, percent=percent, eta=eta, phase=phase)

        def on_progress(progress: Progress) -> None:
            report("encoding", progress.percent, progress.eta_seconds)

        report("probing", 0.0)
        try:
            with self.uploads.local_file(job.source_key) as source, self._workdir(job) as workdir:
                plan = self.analysis.prepare(job.plan, source, workdir, still_wanted, report)
                report("encoding", 0.0)
                output = self.transcoder.transcode(plan, source, workdir, on_progress)
                report("packaging", 0.0)
                plan = measured(self.transcoder, plan.dropping(output.dropped), workdir)
                keys = publish(self.outputs, workdir, output, job.output_prefix)
            if self._deleted(job):  # deleted while publishing: what was published goes too
                raise Cancelled(job.asset_id)
        except Cancelled:
            for info in self.outputs.list(job.output_prefix):
                self.outputs.delete(info.key)
            log.info("job %s stopped: asset %s was deleted", job.job_id, job.asset_id)
            return
        except ObjectNotFound:
            self._emit(
                job,
                JobState.ERROR,
                code=ErrorCode.SOURCE_MISSING,
                message="the upload no longer exists",
            )
            return
        except Failure as exc:  # the input's fault or vodkit's own: never retried
            self._emit(job, JobState.ERROR, code=exc.code, message=str(exc))
            return
        elapsed = time.monotonic() - started
        self.metrics.observe("JobProcessingTime", elapsed)
        self.metrics.observe("TranscodeRealtimeFactor", job.plan.duration / max(elapsed, 1e-3))
        log.info("job %s complete in %.1f s", job.job_id, elapsed)
        tracks = Tracks(plan.tracks, plan.skipped) if output.dropped else None
        self._record(job, plan.summary(), tracks)
        self._emit(job, JobState.COMPLETE, percent=100.0, outputs=keys)

    def _record(
        self, job: TranscodeJob, renditions: list[dict[str, Any]], tracks: Tracks | None
    ) -> None:
        """What each rendition became (its CRF, predicted VMAF, measured bitrates, the
        analysis's verdict), and the tracks if some could not be published, on the asset
        before it completes."""
        self.catalog.record_renditions(job.asset_id, job.job_id, renditions, self.clock(), tracks)

    def _deleted(self, job: TranscodeJob) -> bool:
        asset = self.catalog.get(job.asset_id)
        return asset is None or asset.status is AssetStatus.DELETED

    def _emit(
        self,
        job: TranscodeJob,
        status: JobState,
        *,
        percent: float | None = None,
        eta: float | None = None,
        phase: str = "",
        outputs: dict[str, str] | None = None,
        code: str = "",
        message: str = "",
    ) -> None:
        self.bus.publish(
            JobStateChanged(
                job_id=job.job_id,
                status=status,
                asset_id=job.asset_id,
                preset=PRESET_NAME,
                percent=percent,
                eta_seconds=eta,
                phase=phase,
                outputs=outputs or {},
                error_code=str(code),
                error_message=message,
                time=isoformat(self.clock()),
            )
        )

    @contextmanager
    def _workdir(self, job: TranscodeJob) -> Iterator[Path]:
        # Unique per attempt: a killed worker's leftovers never mix with a retry's files.
        path = self.work_root / process_dir_name(job.job_id)
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def process_dir_name(prefix: str) -> str:
    """A work-root entry named as ``remove_stale_workdirs`` reads it: it is removed once the
    process that made it is gone."""
    return f"{prefix}.{os.getpid()}.{uuid.uuid4().hex[:8]}"


def remove_stale_workdirs(work_root: Path) -> int:
    """Delete work directories left by processes that no longer exist."""
    removed = 0
    for path in work_root.glob("*.*.*") if work_root.is_dir() else []:
        try:
            pid = int(path.name.split(".")[-2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        except (ValueError, PermissionError):
            continue
    return removed
