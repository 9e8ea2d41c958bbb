"""What every footprint builds: the services over its adapters, and its strategies.

A footprint (``embedded``, ``cluster``, ``aws``) chooses the technologies; ``wire`` builds
the same services over them, so every front door (the CLI, the HTTP API, the workers, the
Lambda handlers) drives one core. What differs between footprints is a
strategy, never a ``None``: how an upload is announced (``announcer``), whether
a bucket others write into is watched (``watch_bucket``), where jobs run and what
a worker runs (``processing``), where metrics are read (``serve_metrics``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..adapters.catalog.base import Catalog, EventLog
from ..adapters.events.base import EventBus
from ..adapters.metrics.base import Metrics
from ..adapters.presets.file import load_presets
from ..adapters.probe.base import Prober
from ..adapters.probe.pyav import PyavProber
from ..adapters.queue.base import ConsumableQueue, Queue
from ..adapters.storage.base import ObjectStore
from ..adapters.transcoder.base import JobFinisher, JobSubmitter, Transcoder
from ..adapters.transcoder.ffmpeg import FfmpegTranscoder, ffmpeg_executable, make_sample
from ..config import Settings
from ..domain.clock import Clock, utcnow
from ..domain.errors import ConfigError
from ..domain.events import JobStateChanged
from ..domain.presets import Presets
from ..services.access import KeyService
from ..services.assets import Announcer, AssetService
from ..services.bucket_watch import BucketWatch, Pass
from ..services.captions import CaptionService
from ..services.consumer import Consumer
from ..services.follow import Follower
from ..services.health import Health
from ..services.ingest import IngestOrchestrator
from ..services.observers import watch_metrics
from ..services.playback import PlaybackTokens
from ..services.processing import LocalProcessing, Processing
from ..services.retries import DEFAULT, Retries
from ..services.sessions import Sessions
from ..services.status import StatusProcessor
from ..services.text_conversion import TextConversion
from ..services.transcode import TranscodeService, remove_stale_workdirs
from ..services.uploads import ResumableUploads
from ..services.webhooks import WebhookService
from ..services.worker import Background, Worker

X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class WorkerSettings(Settings):
    """What footprints that run FFmpeg workers share (embedded, cluster)."""

    retry_backoff: float = Field(2.0, ge=0, description="first retry delay; doubles per receive")
    x264_preset: X264Preset = "veryfast"
    transcode_timeout: float = Field(6 * 3600.0, gt=0, description="wall-clock limit, seconds")
    transcode_memory_mb: int = Field(6144, ge=256, description="FFmpeg address-space limit")


def retries(settings: WorkerSettings, attempts: int) -> Retries:
    """The one retry policy of a footprint's queues (``attempts``: what its queues allow)."""
    return Retries(backoff=settings.retry_backoff, attempts=attempts)


def presets(settings: Settings) -> Presets:
    """The presets file's, checked against the rules (every footprint but aws's SSM)."""
    return load_presets(settings.presets).validate(settings.rules)


def transcoder(settings: WorkerSettings) -> FfmpegTranscoder:
    return FfmpegTranscoder(
        settings.ffmpeg,
        x264_preset=settings.x264_preset,
        timeout=settings.transcode_timeout,
        memory_bytes=settings.transcode_memory_mb * 1024 * 1024,
    )


INGEST_QUEUE = "ingest"
TRANSCODE_QUEUE = "transcode"
WatchBucket = Callable[[float, Callable[[Pass], None]], BucketWatch]  # interval, on each pass


@dataclass
class App:
    settings: Settings
    presets: Presets
    uploads: ObjectStore
    outputs: ObjectStore
    catalog: Catalog
    ingest_queue: Queue
    queues: Mapping[str, Queue]  # by name: `vodkit dlq` and the depth gauges
    bus: EventBus
    metrics: Metrics
    orchestrator: IngestOrchestrator
    status: StatusProcessor
    assets: AssetService
    processing: Processing
    make_sample: Callable[[Path], Path]  # a short real clip, for `vodkit demo`
    serve_metrics: Callable[[int], None]  # on 127.0.0.1:port, where metrics are pulled
    watch_bucket: WatchBucket  # `vodkit watch`: find what others wrote into the uploads bucket
    clock: Clock = utcnow

    @property
    def captions(self) -> CaptionService:
        limits = self.settings.rules.track_limits
        return CaptionService(self.outputs, self.catalog, limits=limits, clock=self.clock)


@dataclass
class Api:
    """What the HTTP API needs besides the ``App``, on a footprint that serves it."""

    app: App
    keys: KeyService
    uploads: ResumableUploads
    playback: PlaybackTokens
    sessions: Sessions
    webhooks: WebhookService
    events: EventLog
    metrics_text: Callable[[], tuple[bytes, str]]  # the exposition and its content type
    health: Health  # readiness, and the shared gauges at every scrape
    # runs a catalog read on the server's event loop (TransientError: take it to a thread)
    read_now: Callable[[Callable[[], Any]], Any]


@dataclass(frozen=True)
class Ports:
    """A footprint's adapters, before any service is built over them."""

    presets: Presets
    uploads: ObjectStore
    outputs: ObjectStore
    catalog: Catalog
    bus: EventBus
    metrics: Metrics
    prober: Prober
    submitter: JobSubmitter


def prober(settings: Settings) -> PyavProber:
    return PyavProber(settings.limits, timeout=settings.probe_timeout)


def sample_maker(settings: Settings) -> Callable[[Path], Path]:
    """A 10 s test clip made by the configured FFmpeg (``vodkit demo``)."""
    return lambda target: make_sample(ffmpeg_executable(settings.ffmpeg), target)


def orchestrator(
    settings: Settings,
    ports: Ports,
    clock: Clock = utcnow,
    text_conversion: TextConversion | None = None,
) -> IngestOrchestrator:
    return IngestOrchestrator(
        uploads=ports.uploads,
        catalog=ports.catalog,
        prober=ports.prober,
        submitter=ports.submitter,
        presets=ports.presets,
        bus=ports.bus,
        clock=clock,
        rules=settings.rules,
        text_conversion=text_conversion,
    )


def status_processor(
    catalog: Catalog,
    bus: EventBus,
    metrics: Metrics,
    finisher: JobFinisher | None = None,
    clock: Clock = utcnow,
    captions: CaptionService | None = None,
) -> StatusProcessor:
    """The status processor, subscribed to the job events on the bus, and metrics with it
    (``captions``: publishes the captions added while an asset was processing)."""
    status = StatusProcessor(
        catalog=catalog, bus=bus, clock=clock, finisher=finisher, captions=captions
    )
    bus.subscribe(JobStateChanged, status.handle)
    watch_metrics(bus, metrics)
    return status


def transcode_service(
    ports: Ports, transcoder: Transcoder, work_root: Path, clock: Clock = utcnow
) -> TranscodeService:
    """The transcode service of a footprint whose workers run the transcoder."""
    return TranscodeService(
        uploads=ports.uploads,
        outputs=ports.outputs,
        catalog=ports.catalog,
        transcoder=transcoder,
        bus=ports.bus,
        metrics=ports.metrics,
        work_root=work_root,
        clock=clock,
    )


def local_processing(
    ports: Ports,
    ingest: IngestOrchestrator,
    *,
    ingest_queue: ConsumableQueue,
    transcode_queue: ConsumableQueue,
    queues: Mapping[str, Queue],
    transcoder: Transcoder,
    work_root: Path,
    events: EventLog | None = None,
    watcher: Background | None = None,
    background: Sequence[Background] = (),
    retries: Retries = DEFAULT,
    poll_interval: float = 0.5,
    clock: Clock = utcnow,
) -> LocalProcessing:
    """Workers here: they drain the ingest and transcode queues and run the transcoder, and
    report the catalog's counters from ``events`` (the catalog's log, where it keeps one)."""
    service = transcode_service(ports, transcoder, work_root, clock)

    def make_worker(watch: bool) -> Worker:
        return Worker(
            [
                Consumer(ingest_queue, ingest.handle_message, retries),
                Consumer(transcode_queue, service.handle_message, retries),
            ],
            queues=queues,
            metrics=ports.metrics,
            catalog=events,
            poll_interval=poll_interval,
            background=[*background, *([watcher] if watch and watcher else [])],
            prepare=lambda: remove_stale_workdirs(work_root),
        )

    follower = Follower(ports.catalog, ingest_queue)
    return LocalProcessing(service, follower, make_worker)


def watch_bucket(ports: Ports, assets: AssetService) -> WatchBucket:
    """List the uploads bucket now and then, and announce what the catalog does not know."""
    return lambda interval, on_pass: BucketWatch(
        ports.uploads, ports.catalog, announce=assets.announce, interval=interval, on_pass=on_pass
    )


def nothing_to_watch(ports: Ports, assets: AssetService) -> WatchBucket:
    """Where the bucket announces its uploads itself (S3's events on aws)."""

    def refuse(interval: float, on_pass: Callable[[Pass], None]) -> BucketWatch:
        raise ConfigError("this footprint's bucket announces its uploads itself: nothing to watch")

    return refuse


def wire(
    settings: Settings,
    ports: Ports,
    *,
    ingest_queue: Queue,
    queues: Mapping[str, Queue],
    announcer: Announcer,
    processing: Callable[[Ports, IngestOrchestrator, AssetService], Processing],
    make_sample: Callable[[Path], Path],
    serve_metrics: Callable[[int], None],
    finisher: JobFinisher,
    watch: Callable[[Ports, AssetService], WatchBucket] = watch_bucket,
    clock: Clock = utcnow,
) -> App:
    """Build the services over any set of adapters (a footprint's, or the fakes in tests)."""
    ingest = orchestrator(settings, ports, clock)
    assets = AssetService(
        uploads=ports.uploads,
        outputs=ports.outputs,
        catalog=ports.catalog,
        ingest_queue=ingest_queue,
        announcer=announcer,
        register=ingest.register,
        clock=clock,
    )
    return App(
        settings=settings,
        presets=ports.presets,
        uploads=ports.uploads,
        outputs=ports.outputs,
        catalog=ports.catalog,
        ingest_queue=ingest_queue,
        queues=queues,
        bus=ports.bus,
        metrics=ports.metrics,
        orchestrator=ingest,
        status=status_processor(
            ports.catalog,
            ports.bus,
            ports.metrics,
            finisher,
            clock,
            CaptionService(
                ports.outputs, ports.catalog, limits=settings.rules.track_limits, clock=clock
            ),
        ),
        assets=assets,
        processing=processing(ports, ingest, assets),
        make_sample=make_sample,
        serve_metrics=serve_metrics,
        watch_bucket=watch(ports, assets),
        clock=clock,
    )
