"""The composition root: settings -> a wired application. Nothing connects before this."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .adapters.catalog.base import Catalog
from .adapters.catalog.sqlite import SqliteCatalog
from .adapters.events.base import EventBus
from .adapters.events.inprocess import InProcessEventBus
from .adapters.metrics.base import Metrics
from .adapters.metrics.prometheus import PrometheusMetrics
from .adapters.probe.base import Prober
from .adapters.probe.pyav import PyavProber
from .adapters.queue.base import Queue
from .adapters.queue.sqlite import SqliteQueue
from .adapters.storage.base import ObjectStore
from .adapters.storage.local import LocalObjectStore
from .adapters.transcoder.base import JobSubmitter, Transcoder
from .adapters.transcoder.ffmpeg import FfmpegTranscoder
from .adapters.transcoder.queued import QueuedJobSubmitter
from .config import Settings, load_settings
from .domain.asset import Asset
from .domain.clock import Clock, isoformat, utcnow
from .domain.errors import ConfigError, PresetsError
from .domain.events import JobStateChanged, ObjectCreated
from .domain.keys import UPLOAD_PREFIX, asset_id_for
from .domain.presets import Presets, load_presets
from .services.ingest import IngestOrchestrator
from .services.observers import watch_metrics
from .services.status import StatusProcessor
from .services.transcode import TranscodeService

log = logging.getLogger(__name__)
INGEST_QUEUE = "ingest"
TRANSCODE_QUEUE = "transcode"


def default_presets_path() -> Path:
    return Path(str(resources.files("vodkit") / "presets" / "default.json"))


@dataclass
class App:
    settings: Settings
    presets: Presets
    uploads: ObjectStore
    outputs: ObjectStore
    catalog: Catalog
    ingest_queue: Queue
    transcode_queue: Queue | None  # None where jobs run elsewhere (MediaConvert)
    bus: EventBus
    metrics: Metrics
    prober: Prober
    transcoder: Transcoder | None
    orchestrator: IngestOrchestrator
    status: StatusProcessor
    transcode_service: TranscodeService | None
    queues: dict[str, Queue]  # by name, for `vodkit dlq` and the depth gauges
    clock: Clock = field(default=utcnow)
    # True where the uploads store announces new objects itself (S3 -> EventBridge -> queue):
    # an upload is then only stored; queueing it too would deliver it twice.
    uploads_announced: bool = False

    def local_transcoding(self) -> tuple[Queue, TranscodeService]:
        if self.transcode_queue is None or self.transcode_service is None:
            raise ConfigError(
                f"the {self.settings.backend} backend runs transcode jobs on MediaConvert: "
                "there is no local worker to run"
            )
        return self.transcode_queue, self.transcode_service

    def enqueue_upload(self, event: ObjectCreated, *, attempt: int = 1) -> str:
        """Queue an ObjectCreated for ingest (the EventBridge rule's job); return the asset id."""
        asset_id = asset_id_for(event.bucket, event.key, event.version)
        self.ingest_queue.send(json.dumps(event.to_eventbridge()), dedup_id=f"{asset_id}:{attempt}")
        return asset_id

    def upload_file(self, path: Path, key: str) -> str:
        """Store a local file under ``key`` and queue it for ingest; return the asset id."""
        info = self.uploads.put_file(key, path)
        event = self.object_created(key, info.size, info.etag, info.version_id)
        if self.uploads_announced:
            return asset_id_for(event.bucket, event.key, event.version)
        return self.enqueue_upload(event)

    def object_created(
        self, key: str, size: int, etag: str, version_id: str | None = None
    ) -> ObjectCreated:
        return ObjectCreated(
            bucket=self.uploads.bucket,
            key=key,
            size=size,
            etag=etag,
            version_id=version_id,
            time=isoformat(self.clock()),
        )

    def retry_event(self, asset: Asset) -> ObjectCreated:
        """The event that re-ingests ``asset``: same bucket, key and version, hence same id."""
        return ObjectCreated(
            bucket=asset.source_bucket,
            key=asset.source_key,
            size=asset.file_size,
            etag="",
            version_id=asset.source_version,
            time=isoformat(self.clock()),
        )


def make_prober(settings: Settings) -> PyavProber:
    return PyavProber(settings.limits, timeout=settings.probe_timeout)


def make_transcoder(settings: Settings) -> FfmpegTranscoder:
    return FfmpegTranscoder(
        settings.ffmpeg,
        x264_preset=settings.x264_preset,
        timeout=settings.transcode_timeout,
        memory_bytes=settings.transcode_memory_mb * 1024 * 1024,
    )


def make_presets(settings: Settings) -> Presets:
    presets = load_presets(settings.presets or default_presets_path())
    if presets.segment_seconds % settings.gop_seconds:
        raise PresetsError(
            f"presets.hls.outputGroup.segmentDuration: {presets.segment_seconds} s is not a "
            f"multiple of the {settings.gop_seconds} s keyframe interval (VODKIT_GOP_SECONDS), "
            "so segments could not all start on an aligned keyframe"
        )
    return presets


def bootstrap(settings: Settings | None = None, *, clock: Clock = utcnow) -> App:
    """The embedded footprint: a data directory, SQLite, FFmpeg."""
    settings = settings or load_settings()
    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    (data / UPLOAD_PREFIX).mkdir(exist_ok=True)

    def queue(name: str) -> SqliteQueue:
        return SqliteQueue(
            data / "queue.sqlite3",
            name,
            visibility_timeout=settings.visibility_timeout,
            max_receives=settings.max_receives,
        )

    return wire(
        settings,
        presets=make_presets(settings),
        uploads=LocalObjectStore(data, bucket=settings.uploads_bucket, key_prefix=UPLOAD_PREFIX),
        outputs=LocalObjectStore(data / "outputs", bucket="vodkit-outputs"),
        catalog=SqliteCatalog(data / "catalog.sqlite3"),
        ingest_queue=queue(INGEST_QUEUE),
        transcode_queue=queue(TRANSCODE_QUEUE),
        bus=InProcessEventBus(),
        metrics=PrometheusMetrics(),
        prober=make_prober(settings),
        transcoder=make_transcoder(settings),
        work_root=data / "work",
        clock=clock,
    )


def wire(
    settings: Settings,
    *,
    presets: Presets,
    uploads: ObjectStore,
    outputs: ObjectStore,
    catalog: Catalog,
    ingest_queue: Queue,
    transcode_queue: Queue | None,
    bus: EventBus,
    metrics: Metrics,
    prober: Prober,
    transcoder: Transcoder | None,
    work_root: Path,
    clock: Clock = utcnow,
    submitter: JobSubmitter | None = None,
    queues: dict[str, Queue] | None = None,
    uploads_announced: bool = False,
) -> App:
    """Build the services over any set of adapters (real ones, or the fakes in tests).

    Jobs go to ``submitter`` (MediaConvert) if given, else onto ``transcode_queue`` for
    a local worker that runs ``transcoder``.
    """
    if submitter is None:
        if transcode_queue is None:
            raise ConfigError("wire() needs a job submitter or a transcode queue")
        submitter = QueuedJobSubmitter(transcode_queue)
    orchestrator = IngestOrchestrator(
        uploads=uploads,
        catalog=catalog,
        prober=prober,
        submitter=submitter,
        presets=presets,
        bus=bus,
        clock=clock,
        rules=settings.rules,
    )
    status = StatusProcessor(catalog=catalog, bus=bus, clock=clock)
    transcode_service = None
    if transcoder is not None:
        transcode_service = TranscodeService(
            uploads=uploads,
            outputs=outputs,
            catalog=catalog,
            transcoder=transcoder,
            bus=bus,
            metrics=metrics,
            work_root=work_root,
            clock=clock,
        )
    if queues is None:
        queues = {INGEST_QUEUE: ingest_queue}
        if transcode_queue is not None:
            queues[TRANSCODE_QUEUE] = transcode_queue
    bus.subscribe(JobStateChanged, status.handle)
    watch_metrics(bus, metrics)
    return App(
        settings=settings,
        presets=presets,
        uploads=uploads,
        outputs=outputs,
        catalog=catalog,
        ingest_queue=ingest_queue,
        transcode_queue=transcode_queue,
        bus=bus,
        metrics=metrics,
        prober=prober,
        transcoder=transcoder,
        orchestrator=orchestrator,
        status=status,
        transcode_service=transcode_service,
        queues=queues,
        clock=clock,
        uploads_announced=uploads_announced,
    )
