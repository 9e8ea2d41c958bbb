"""The embedded footprint: a data directory, SQLite, FFmpeg; nothing to install but pip packages.

```
vodkit-data/uploads/      the uploads store (a watched directory: files dropped here are ingested)
vodkit-data/outputs/      the outputs store
vodkit-data/catalog.sqlite3, queue.sqlite3, work/
```
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from pydantic import Field

from ..adapters.catalog.sqlite import SqliteCatalog
from ..adapters.events.inprocess import InProcessEventBus
from ..adapters.metrics.prometheus import PrometheusMetrics
from ..adapters.queue.sqlite import SqliteQueue
from ..adapters.signing.file import FileSigningSecret
from ..adapters.storage.base import ObjectInfo
from ..adapters.storage.local import LocalObjectStore
from ..adapters.storage.watcher import UploadWatcher
from ..adapters.transcoder.base import NothingToFinish
from ..adapters.transcoder.queued import QueuedJobSubmitter
from ..config import load_settings
from ..domain.clock import Clock, utcnow
from ..domain.keys import UPLOAD_PREFIX
from ..services.assets import AssetService
from ..services.ingest import IngestOrchestrator, QueueAnnouncer
from ..services.playback import PlaybackTokens
from ..services.processing import LocalProcessing
from ..services.transcode import FileTranscoding
from ..services.webhooks import WebhookService
from .base import (
    INGEST_QUEUE,
    TRANSCODE_QUEUE,
    Api,
    App,
    Ports,
    WorkerSettings,
    local_processing,
    presets,
    prober,
    retries,
    sample_maker,
    transcoder,
    wire,
)
from .served import sql_api, webhook_service

log = logging.getLogger(__name__)


class EmbeddedSettings(WorkerSettings):
    """The local queues and the upload directory's watcher, besides the workers' settings."""

    visibility_timeout: float = Field(60.0, gt=0, description="queue lease, seconds")
    max_receives: int = Field(3, ge=1, description="receives before a message is dead-lettered")
    poll_interval: float = Field(0.5, gt=0, description="idle worker's queue polling period")
    settle_seconds: float = Field(
        1.0, ge=0, description="an upload is complete once unchanged this long"
    )


SETTINGS = EmbeddedSettings
__all__ = ["SETTINGS", "EmbeddedSettings", "api", "bootstrap", "file_transcoding", "presets"]


def file_transcoding(settings: EmbeddedSettings) -> FileTranscoding:
    """``vodkit transcode``: FFmpeg on one file, no catalog, no queue."""
    return FileTranscoding(
        prober=prober(settings),
        transcoder=transcoder(settings),
        presets=presets(settings),
        rules=settings.rules,
    )


def output_store(directory: Path) -> LocalObjectStore:
    """A directory to write one file's outputs into (``vodkit transcode --out``)."""
    directory.mkdir(parents=True, exist_ok=True)
    return LocalObjectStore(directory)


def bootstrap(settings: EmbeddedSettings | None = None, *, clock: Clock = utcnow) -> App:
    return _build(settings or load_settings(EmbeddedSettings), clock).app


class _Built(NamedTuple):
    app: App
    catalog: SqliteCatalog
    metrics: PrometheusMetrics
    playback: PlaybackTokens
    webhooks: WebhookService


def _build(settings: EmbeddedSettings, clock: Clock) -> _Built:
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
        presets=presets(settings),
        uploads=uploads,
        outputs=LocalObjectStore(data / "outputs", bucket=settings.outputs_bucket),
        catalog=catalog,
        bus=InProcessEventBus(),
        metrics=metrics,
        prober=prober(settings),
        submitter=QueuedJobSubmitter(transcode_queue),
    )

    playback = PlaybackTokens(FileSigningSecret(data / "secret.key").get(), settings.playback_ttl)
    webhooks = webhook_service(settings, catalog.db, catalog, metrics, playback, clock)

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
            ports,
            ingest,
            ingest_queue=ingest_queue,
            transcode_queue=transcode_queue,
            queues=queues,
            transcoder=transcoder(settings),
            work_root=data / "work",
            events=catalog,
            retries=retries(settings, settings.max_receives),
            poll_interval=settings.poll_interval,
            watcher=watcher.run,
            background=[webhooks.run],  # the worker sends the webhooks
            clock=clock,
        )

    app = wire(
        settings,
        ports,
        ingest_queue=ingest_queue,
        queues=queues,
        announcer=QueueAnnouncer(ingest_queue),
        processing=processing,
        make_sample=sample_maker(settings),
        serve_metrics=metrics.serve,
        finisher=NothingToFinish(),  # FFmpeg makes every output itself
        clock=clock,
    )
    return _Built(app, catalog, metrics, playback, webhooks)


def api(settings: EmbeddedSettings | None = None, *, clock: Clock = utcnow) -> Api:
    """The HTTP API's services: keys, webhooks and the outbox in the catalog's database."""
    app, catalog, metrics, playback, webhooks = _build(
        settings or load_settings(EmbeddedSettings), clock
    )
    return sql_api(app, catalog.db, catalog, metrics, playback, webhooks)
