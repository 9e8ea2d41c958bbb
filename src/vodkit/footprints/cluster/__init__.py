"""The cluster footprint: PostgreSQL, an S3-compatible store, Celery workers on RabbitMQ.

The same services as everywhere, on engines that scale past one machine. Workers
share no file system: a transcode worker reads its source from the store into
scratch (probing from ranges first), writes its outputs back in parts, manifests
last, and cleans its scratch whatever happens. ``ingest`` and ``transcode`` are
queues of their own (``vodkit worker --queues transcode``). A transcode is
acknowledged as it starts and its job leased in PostgreSQL while it runs
(``services.leases``): a worker that dies loses its lease within a minute, and every
worker's reaper hands the job out again. RabbitMQ's ``consumer_timeout`` must still
exceed the longest transcode (``VODKIT_TRANSCODE_TIMEOUT``; deploy/rabbitmq sets 7 h):
a busy worker holds the next message of its queue, prefetched and unacknowledged,
until its transcode ends, and RabbitMQ 3.10 has no per-queue timeout.

A source longer than two chunks (``VODKIT_CHUNK_SECONDS``, 60 by default, a multiple of
the segment length) is split and stitched (``services.chunked``): its transcode task
analyses it, queues its pieces on the ``chunks`` queue, one task per chunk, its audio and
its thumbnails, and hands the job's lease to them; the last to finish queues the stitch.
A chunk's retry costs that chunk: its task is acknowledged once done, so a worker that
dies mid-chunk hands it back to the broker.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from ...adapters.aws import client
from ...adapters.catalog.postgres import PostgresCatalog, catalog_database
from ...adapters.chunks.base import progress_of
from ...adapters.chunks.postgres import PostgresChunkLedger
from ...adapters.events.inprocess import InProcessEventBus
from ...adapters.metrics.prometheus import PrometheusMetrics
from ...adapters.postgresdb import PostgresDatabase
from ...adapters.queue.celery import DELIVERIES, CeleryQueue, celery_app, dead_letter, declare
from ...adapters.signing.sql import SqlSigningSecret
from ...adapters.storage.s3 import S3ObjectStore
from ...adapters.transcoder.base import NothingToFinish
from ...adapters.transcoder.chunk import ChunkEncoder
from ...adapters.transcoder.pieces import FfmpegPieces
from ...adapters.transcoder.queued import QueuedJobSubmitter
from ...config import load_settings
from ...domain.chunks import DEFAULT_CHUNK_SECONDS, check_chunk_seconds
from ...domain.clock import Clock, utcnow
from ...domain.jobs import TranscodeJob
from ...services.chunked import ChunkedTranscoding
from ...services.follow import Follower
from ...services.health import Health
from ...services.ingest import QueueAnnouncer
from ...services.leases import LeasedRuns, Reaper
from ...services.messages import decode
from ...services.playback import PlaybackTokens
from ...services.processing import BrokerWork, Handler, RemoteProcessing
from ...services.transcode import TranscodeService, process_dir_name, remove_stale_workdirs
from ...services.webhooks import WebhookService
from ...services.worker import WORKER
from ..base import (
    INGEST_QUEUE,
    TRANSCODE_QUEUE,
    Api,
    App,
    Ports,
    WorkerSettings,
    presets,
    prober,
    retries,
    sample_maker,
    transcode_service,
    transcoder,
    wire,
)
from ..served import sql_api, webhook_service

log = logging.getLogger(__name__)
CHUNKS_QUEUE = "chunks"  # the pieces of chunked transcodes, and their stitches
QUEUES = (INGEST_QUEUE, TRANSCODE_QUEUE, CHUNKS_QUEUE)
# who holds a chunked job's lease while its pieces run: each piece renews it for
# VODKIT_TRANSCODE_TIMEOUT as it begins and ends; a job none of whose pieces moved for that
# long (its chunk dead-lettered by the broker after killing 3 workers) is started again
CHUNKS_OWNER = "chunks"
__all__ = ["SETTINGS", "ClusterSettings", "api", "bootstrap", "presets", "upgrade"]


class ClusterSettings(WorkerSettings):
    """PostgreSQL, RabbitMQ and the store's endpoint; credentials from boto3's environment."""

    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/test", description="the catalog's PostgreSQL"
    )
    broker_url: str = Field("amqp://guest:guest@127.0.0.1:5672//", description="RabbitMQ")
    s3_endpoint_url: str = Field("", description="the S3-compatible store; empty: AWS S3")
    concurrency: int = Field(1, ge=1, le=64, description="jobs a worker runs at once")
    lease_seconds: float = Field(60.0, ge=3, description="a running job's lease, renewed by 1/3")
    reap_period: float = Field(15.0, gt=0, description="seconds between reaper sweeps")
    max_restarts: int = Field(3, ge=1, description="lost workers before an asset fails")
    lost_after: float = Field(
        600.0, gt=0, description="an unclaimed job, nothing queued: its message is lost after, s"
    )
    delivery_grace: float = Field(60.0, ge=0, description="--wait: an upload's time to show up")
    chunk_seconds: int = Field(
        DEFAULT_CHUNK_SECONDS,
        ge=1,
        description="split a source longer than twice this into chunks of this many seconds "
        "(a multiple of the segment length), encoded by many workers at once",
    )


SETTINGS = ClusterSettings


def upgrade(settings: ClusterSettings) -> int:
    """Apply the catalog's migrations; how many were (``vodkit db upgrade``)."""
    db = catalog_database(settings.database_url, upgrade=False)
    try:
        return db.upgrade()
    finally:
        db.close()


@dataclass
class _Built:
    app: App
    db: PostgresDatabase
    catalog: PostgresCatalog
    metrics: PrometheusMetrics
    celery: Any
    transcode: TranscodeService
    reaper: Reaper
    playback: PlaybackTokens
    webhooks: WebhookService


def _store(settings: ClusterSettings, bucket: str, scratch: Path | None = None) -> S3ObjectStore:
    from botocore.config import Config

    endpoint = {"endpoint_url": settings.s3_endpoint_url} if settings.s3_endpoint_url else {}
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return S3ObjectStore(client("s3", config=config, **endpoint), bucket, scratch=scratch)


def _build(settings: ClusterSettings, clock: Clock = utcnow) -> _Built:
    db = catalog_database(settings.database_url)
    catalog = PostgresCatalog(db)
    work_root = settings.data_dir.resolve() / "work"  # this machine's scratch
    metrics = PrometheusMetrics()
    broker = celery_app(settings.broker_url, QUEUES)
    ingest_queue, transcode_queue = (
        CeleryQueue(broker, INGEST_QUEUE),
        CeleryQueue(broker, TRANSCODE_QUEUE),
    )
    queues = {
        INGEST_QUEUE: ingest_queue,
        TRANSCODE_QUEUE: transcode_queue,
        CHUNKS_QUEUE: CeleryQueue(broker, CHUNKS_QUEUE),
    }
    bus = InProcessEventBus()
    submitter = QueuedJobSubmitter(transcode_queue)
    ports = Ports(
        presets=presets(settings),
        uploads=_store(settings, settings.uploads_bucket, work_root),
        outputs=_store(settings, settings.outputs_bucket),
        catalog=catalog,
        bus=bus,
        metrics=metrics,
        prober=prober(settings),
        submitter=submitter,
    )
    transcode = transcode_service(ports, transcoder(settings), work_root, clock)
    follower = Follower(catalog, ingest_queue, delivery_grace=settings.delivery_grace)
    holder: list[_Built] = []
    app = wire(
        settings,
        ports,
        ingest_queue=ingest_queue,
        queues=queues,
        announcer=QueueAnnouncer(ingest_queue),
        processing=lambda *_: RemoteProcessing(
            follower,
            work=lambda: _work(settings, holder[0]),
            check=transcode.transcoder.check,  # this machine's FFmpeg, for its workers
        ),
        make_sample=sample_maker(settings),
        serve_metrics=metrics.serve,
        finisher=NothingToFinish(),
        clock=clock,
    )
    playback = PlaybackTokens(SqlSigningSecret(db).get(), settings.playback_ttl)
    webhooks = webhook_service(settings, db, catalog, metrics, playback, clock)
    reaper = Reaper(
        catalog,
        submitter,
        bus,
        max_restarts=settings.max_restarts,
        idle_lost_after=settings.lost_after,
        idle=lambda: transcode_queue.depth().visible == 0,
        period=settings.reap_period,
        clock=clock,
    )
    ledger = PostgresChunkLedger(db)
    app.assets.chunks = lambda asset_id: chunk_counts(ledger, asset_id)
    holder.append(_Built(app, db, catalog, metrics, broker, transcode, reaper, playback, webhooks))
    return holder[0]


def _work(settings: ClusterSettings, built: _Built) -> BrokerWork:
    """What ``vodkit worker`` runs here: the Celery workers' services, and in their main
    process the reaper, the webhook sender and the housekeeping."""
    root = built.transcode.work_root
    # The jobs run in pool children: their metrics reach /metrics through files, named
    # as work directories are, so that a killed worker's are reaped with them.
    metrics_dir = root / process_dir_name("metrics")
    built.metrics.record_in_files(metrics_dir)

    health = Health(built.app.queues, built.metrics, catalog=built.catalog)  # as the API's

    def housekeeping(stop: threading.Event) -> None:
        while True:
            built.metrics.gauge("WorkerLastSeen", time.time(), worker=WORKER)
            try:
                health.report()
            except Exception:  # the heartbeat above goes on; the next sweep reports again
                log.warning("the shared metrics could not be read", exc_info=True)
            if stop.wait(built.reaper.period):
                return
            remove_stale_workdirs(root)  # a killed child's, once gone

    # a chunk length that cuts segments is refused as the worker starts, not by every task
    check_chunk_seconds(settings.chunk_seconds, built.app.presets.segment_seconds)

    def prepare() -> None:
        declare(built.celery, QUEUES)
        remove_stale_workdirs(root)

    return BrokerWork(
        broker=built.celery,
        queues=QUEUES,
        concurrency=settings.concurrency,
        handlers=lambda: _handlers(settings),
        retries=retries(settings, DELIVERIES),  # as many as the broker delivers
        dead_letter=lambda *letter: dead_letter(built.celery, *letter),
        background=[built.reaper.run, built.webhooks.run, housekeeping],
        work_root=root,
        prepare=prepare,
        finish=lambda: shutil.rmtree(metrics_dir, ignore_errors=True),
        gave_up=_gave_up,
    )


def chunk_counts(ledger: PostgresChunkLedger, asset_id: str) -> dict[str, int] | None:
    """The asset's chunks as its view shows them, if its transcode is chunked."""
    job = ledger.latest(asset_id)
    pieces = ledger.pieces(job) if job else []
    return progress_of(pieces, time.time()).to_dict() if pieces else None


_CHILD: dict[str, ChunkedTranscoding] = {}  # a pool child's, once its handlers are built


def _gave_up(queue: str, body: str, error: str) -> None:
    if queue == CHUNKS_QUEUE and CHUNKS_QUEUE in _CHILD:
        _CHILD[CHUNKS_QUEUE].gave_up(body, error)


def chunked(
    settings: ClusterSettings, built: _Built, renew: Callable[[TranscodeJob], object]
) -> ChunkedTranscoding:
    """Split-and-stitch over this cluster's ledger and chunks queue."""
    check_chunk_seconds(settings.chunk_seconds, built.app.presets.segment_seconds)
    ffmpeg = transcoder(settings).ffmpeg
    timeout, memory = settings.transcode_timeout, settings.transcode_memory_mb * 1024 * 1024
    return ChunkedTranscoding(
        built.transcode,
        PostgresChunkLedger(built.db),
        encoder=ChunkEncoder(
            ffmpeg, x264_preset=settings.x264_preset, timeout=timeout, memory_bytes=memory
        ),
        pieces=FfmpegPieces(ffmpeg, timeout=timeout, memory_bytes=memory),
        send=CeleryQueue(built.celery, CHUNKS_QUEUE).send,
        chunk_seconds=settings.chunk_seconds,
        renew=renew,
    )


def _handlers(settings: ClusterSettings) -> dict[str, Handler]:
    """What a worker's pool child runs for each queue, built in the child after the fork
    (the parent's database pool and broker connections do not survive it)."""
    built = _build(settings)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    leased = LeasedRuns(built.catalog, owner=owner, lease=settings.lease_seconds)

    pieces = LeasedRuns(built.catalog, owner=CHUNKS_OWNER, lease=settings.transcode_timeout)
    split = _CHILD[CHUNKS_QUEUE] = chunked(settings, built, renew=pieces.renew)

    def run_transcode(body: str) -> None:
        job = TranscodeJob.from_dict(decode(body))
        if not split.applies(job):
            leased.run(job, lambda: built.transcode.run(job))
        elif leased.run(job, lambda: split.fan_out(job)):
            leased.hand_over(job, pieces)

    return {
        INGEST_QUEUE: built.app.orchestrator.handle_message,
        TRANSCODE_QUEUE: run_transcode,
        CHUNKS_QUEUE: split.handle_message,
    }


def bootstrap(settings: ClusterSettings | None = None, *, clock: Clock = utcnow) -> App:
    return _build(settings or load_settings(ClusterSettings), clock).app


def api(settings: ClusterSettings | None = None, *, clock: Clock = utcnow) -> Api:
    built = _build(settings or load_settings(ClusterSettings), clock)
    return sql_api(
        built.app, built.db, built.catalog, built.metrics, built.playback, built.webhooks
    )
