"""The embedded footprint: a data directory, SQLite, FFmpeg; nothing to install but pip packages.

```
vodkit-data/uploads/      the uploads store (a watched directory: files dropped here are ingested)
vodkit-data/outputs/      the outputs store
vodkit-data/catalog.sqlite3, queue.sqlite3, work/
```
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from ..adapters.catalog.sqlite import SqliteCatalog
from ..adapters.events.inprocess import InProcessEventBus
from ..adapters.metrics.prometheus import PrometheusMetrics
from ..adapters.presets.file import load_presets
from ..adapters.probe.pyav import PyavProber
from ..adapters.queue.sqlite import SqliteQueue
from ..adapters.storage.base import ObjectInfo
from ..adapters.storage.local import LocalObjectStore
from ..adapters.storage.watcher import UploadWatcher
from ..adapters.transcoder.ffmpeg import FfmpegTranscoder, ffmpeg_executable, make_sample
from ..adapters.transcoder.queued import QueuedJobSubmitter
from ..config import Settings, load_settings
from ..domain.clock import Clock, utcnow
from ..domain.keys import UPLOAD_PREFIX
from ..services.assets import AssetService
from ..services.ingest import IngestOrchestrator, QueueAnnouncer
from ..services.processing import LocalProcessing
from ..services.transcode import FileTranscoding
from .base import INGEST_QUEUE, TRANSCODE_QUEUE, App, Ports, local_processing, wire

log = logging.getLogger(__name__)
SETTINGS = Settings  # the shared settings are all this footprint needs


def prober(settings: Settings) -> PyavProber:
    return PyavProber(settings.limits, timeout=settings.probe_timeout)


def transcoder(settings: Settings) -> FfmpegTranscoder:
    return FfmpegTranscoder(
        settings.ffmpeg,
        x264_preset=settings.x264_preset,
        timeout=settings.transcode_timeout,
        memory_bytes=settings.transcode_memory_mb * 1024 * 1024,
    )


def sample_maker(settings: Settings) -> Callable[[Path], Path]:
    return lambda target: make_sample(ffmpeg_executable(settings.ffmpeg), target)


def file_transcoding(settings: Settings) -> FileTranscoding:
    """``vodkit transcode``: FFmpeg on one file, no catalog, no queue."""
    return FileTranscoding(
        prober=prober(settings),
        transcoder=transcoder(settings),
        presets=load_presets(settings.presets),
        rules=settings.rules,
    )


def output_store(directory: Path) -> LocalObjectStore:
    """A directory to write one file's outputs into (``vodkit transcode --out``)."""
    directory.mkdir(parents=True, exist_ok=True)
    return LocalObjectStore(directory)


def serve_metrics(metrics: PrometheusMetrics) -> Callable[[int], None]:
    def serve(port: int) -> None:
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1", registry=metrics.registry)

    return serve


def bootstrap(settings: Settings | None = None, *, clock: Clock = utcnow) -> App:
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

    ingest_queue, transcode_queue = queue(INGEST_QUEUE), queue(TRANSCODE_QUEUE)
    queues = {INGEST_QUEUE: ingest_queue, TRANSCODE_QUEUE: transcode_queue}
    uploads = LocalObjectStore(data, bucket=settings.uploads_bucket, key_prefix=UPLOAD_PREFIX)
    catalog = SqliteCatalog(data / "catalog.sqlite3")
    metrics = PrometheusMetrics()
    ports = Ports(
        presets=load_presets(settings.presets),
        uploads=uploads,
        outputs=LocalObjectStore(data / "outputs", bucket=settings.outputs_bucket),
        catalog=catalog,
        bus=InProcessEventBus(),
        metrics=metrics,
        prober=prober(settings),
        submitter=QueuedJobSubmitter(transcode_queue),
    )

    def processing(
        ports: Ports, ingest: IngestOrchestrator, assets: AssetService
    ) -> LocalProcessing:
        def announce(info: ObjectInfo) -> None:
            asset_id = assets.announce(info)
            log.info("upload %s detected: asset %s", ascii(info.key), asset_id)

        watcher = UploadWatcher(
            uploads,
            announce,
            seen=lambda key: catalog.has_source(uploads.bucket, key),
            settle=settings.settle_seconds,
        )
        return local_processing(
            settings,
            ports,
            ingest,
            ingest_queue=ingest_queue,
            transcode_queue=transcode_queue,
            queues=queues,
            transcoder=transcoder(settings),
            work_root=data / "work",
            watcher=watcher.run,
            clock=clock,
        )

    return wire(
        settings,
        ports,
        ingest_queue=ingest_queue,
        queues=queues,
        announcer=QueueAnnouncer(ingest_queue),
        processing=processing,
        make_sample=sample_maker(settings),
        serve_metrics=serve_metrics(metrics),
        clock=clock,
    )
