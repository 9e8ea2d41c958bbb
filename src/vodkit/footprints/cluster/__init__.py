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
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from ...adapters.aws import client
from ...adapters.catalog.postgres import PostgresCatalog, catalog_database
from ...adapters.events.inprocess import InProcessEventBus
from ...adapters.metrics.prometheus import PrometheusMetrics
from ...adapters.postgresdb import PostgresDatabase
from ...adapters.presets.file import load_presets
from ...adapters.queue.celery import (
    DELIVERIES,
    EXCHANGE,
    TASKS,
    CeleryQueue,
    dead_letter,
    declare,
    topology,
)
from ...adapters.storage.s3 import S3ObjectStore
from ...adapters.transcoder.base import NothingToFinish
from ...adapters.transcoder.queued import QueuedJobSubmitter
from ...config import load_settings
from ...domain.asset import Asset
from ...domain.clock import Clock, utcnow
from ...domain.errors import ConfigError
from ...domain.jobs import TranscodeJob
from ...domain.presets import Presets
from ...services.follow import Follower, ProgressCallback
from ...services.ingest import QueueAnnouncer
from ...services.leases import LeasedRuns, Reaper
from ...services.messages import decode
from ...services.playback import PlaybackTokens
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
    prober,
    sample_maker,
    transcoder,
    wire,
)
from ..served import sql_api, webhook_service

log = logging.getLogger(__name__)
QUEUES = (INGEST_QUEUE, TRANSCODE_QUEUE)


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


SETTINGS = ClusterSettings


def celery(settings: ClusterSettings) -> Any:
    """The Celery app: late acknowledgement, prefetch 1, quorum queues, confirmed publishes."""
    try:
        from celery import Celery
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the cluster needs {exc.name}: pip install 'vodkit[cluster]'") from exc
    from ...entrypoints.celery_tasks import register

    app = Celery("vodkit", broker=settings.broker_url, set_as_current=False)
    queues, _ = topology(QUEUES)
    app.conf.update(
        task_queues=queues,
        task_default_queue=INGEST_QUEUE,
        task_default_exchange=EXCHANGE,
        task_default_exchange_type="topic",
        task_create_missing_queues=False,
        task_routes={task: {"queue": queue} for queue, task in TASKS.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=False,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_detect_quorum_queues=True,  # quorum queues take no global QoS
        worker_hijack_root_logger=False,
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
    )
    register(
        app,
        lambda: _handlers(settings, app),
        backoff=settings.retry_backoff,
        deliveries=DELIVERIES,
        dead_letter=lambda *letter: dead_letter(app, *letter),
    )
    return app


def presets(settings: ClusterSettings) -> Presets:
    return load_presets(settings.presets).validate(settings.rules)


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


class CeleryWorker:
    """``vodkit worker`` on the cluster: a Celery worker (prefork, one job per child) on the
    chosen queues, and in its main process the reaper and the webhook sender."""

    def __init__(self, built: _Built, queues: Sequence[str], concurrency: int) -> None:
        unknown = sorted(set(queues) - set(QUEUES))
        if unknown:
            raise ConfigError(f"no queue {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
        self.built = built
        self.queues = list(queues) or list(QUEUES)
        self.concurrency = concurrency
        # The jobs run in pool children: their metrics reach /metrics through files, named
        # as work directories are, so that a killed worker's are reaped with them.
        self.metrics_dir = built.transcode.work_root / process_dir_name("metrics")
        built.metrics.record_in_files(self.metrics_dir)

    def run(self, stop: threading.Event) -> None:
        from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

        built = self.built
        root = built.transcode.work_root
        declare(built.celery, QUEUES)
        remove_stale_workdirs(root)
        worker_process_init.connect(lambda **_: private_tempdir(root), weak=False)
        worker_process_shutdown.connect(lambda **_: drop_tempdir(), weak=False)

        def housekeeping(stop: threading.Event) -> None:
            while True:
                built.metrics.gauge("WorkerLastSeen", time.time(), worker=WORKER)
                if stop.wait(built.reaper.period):
                    return
                remove_stale_workdirs(built.transcode.work_root)  # a killed child's, once gone

        def start_background(**_: Any) -> None:  # once the pool's children are forked
            for task in (built.reaper.run, built.webhooks.run, housekeeping):
                threading.Thread(target=task, args=(stop,), daemon=True).start()

        worker_ready.connect(start_background, weak=False)
        name = f"{'+'.join(self.queues)}-{os.getpid()}@{socket.gethostname()}"
        worker = built.celery.Worker(
            queues=self.queues, concurrency=self.concurrency, pool="prefork", hostname=name,
            without_gossip=True, without_mingle=True, loglevel="WARNING", quiet=True,
        )  # fmt: skip
        try:
            worker.start()
        finally:
            stop.set()
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
        if worker.exitcode:  # Celery gave up (the broker refused it...): say so to a supervisor
            raise SystemExit(worker.exitcode)


def private_tempdir(work_root: Path) -> Path:
    """A pool child's temporary files (probes, samples) inside the work root, named as work
    directories are, so that what a killed child left is reaped with them."""
    path = work_root / process_dir_name("tmp")
    path.mkdir(parents=True)
    tempfile.tempdir = str(path)
    return path


def drop_tempdir() -> None:
    if tempfile.tempdir is not None:
        shutil.rmtree(tempfile.tempdir, ignore_errors=True)
        tempfile.tempdir = None


class ClusterProcessing:
    """Jobs run on the cluster's Celery workers; waiting follows the catalog."""

    def __init__(self, built: Callable[[], _Built], follower: Follower, concurrency: int) -> None:
        self.built = built
        self.follower = follower
        self.concurrency = concurrency

    def check(self) -> None:
        self.built().transcode.transcoder.check()

    def worker(self, *, watch: bool = True, queues: Sequence[str] = ()) -> CeleryWorker:
        return CeleryWorker(self.built(), queues, self.concurrency)

    def wait(self, asset_id: str, on_progress: ProgressCallback) -> Asset:
        asset = self.follower.follow(asset_id, on_progress)
        assert asset is not None  # no stop event: it returns once the asset ended
        return asset

    def interrupt(self) -> None:
        pass  # Celery's workers stop themselves on a signal


def _store(settings: ClusterSettings, bucket: str, scratch: Path | None = None) -> S3ObjectStore:
    from botocore.config import Config

    endpoint = {"endpoint_url": settings.s3_endpoint_url} if settings.s3_endpoint_url else {}
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    return S3ObjectStore(client("s3", config=config, **endpoint), bucket, scratch=scratch)


def _server_secret(db: PostgresDatabase) -> bytes:
    """The signing secret every API node shares: made once, kept in the database."""
    with db.write() as conn:
        conn.execute(
            "INSERT INTO server_secrets (name, value) VALUES ('signing', ?)"
            " ON CONFLICT (name) DO NOTHING",
            (secrets.token_hex(32),),
        )
        row = conn.execute("SELECT value FROM server_secrets WHERE name = 'signing'").fetchone()
    return bytes.fromhex(row["value"])


def _build(settings: ClusterSettings, clock: Clock = utcnow) -> _Built:
    db = catalog_database(settings.database_url)
    catalog = PostgresCatalog(db)
    work_root = settings.data_dir.resolve() / "work"  # this machine's scratch
    metrics = PrometheusMetrics()
    tasks = celery(settings)
    ingest_queue, transcode_queue = (
        CeleryQueue(tasks, INGEST_QUEUE),
        CeleryQueue(tasks, TRANSCODE_QUEUE),
    )
    queues = {INGEST_QUEUE: ingest_queue, TRANSCODE_QUEUE: transcode_queue}
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
    transcode = TranscodeService(
        uploads=ports.uploads,
        outputs=ports.outputs,
        catalog=catalog,
        transcoder=transcoder(settings),
        bus=bus,
        metrics=metrics,
        work_root=work_root,
        clock=clock,
    )
    follower = Follower(catalog, ingest_queue, delivery_grace=settings.delivery_grace)
    holder: list[_Built] = []
    app = wire(
        settings,
        ports,
        ingest_queue=ingest_queue,
        queues=queues,
        announcer=QueueAnnouncer(ingest_queue),
        processing=lambda *_: ClusterProcessing(lambda: holder[0], follower, settings.concurrency),
        make_sample=sample_maker(settings),
        serve_metrics=metrics.serve,
        finisher=NothingToFinish(),
        clock=clock,
    )
    playback = PlaybackTokens(_server_secret(db), settings.playback_ttl)
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
    holder.append(_Built(app, db, catalog, metrics, tasks, transcode, reaper, playback, webhooks))
    return holder[0]


def _handlers(settings: ClusterSettings, tasks: Any) -> dict[str, Callable[[str], object]]:
    """What a worker's child runs for each task (built in the child, after the fork)."""
    built = _build(settings)
    owner = f"{socket.gethostname()}:{os.getpid()}"
    leased = LeasedRuns(built.catalog, owner=owner, lease=settings.lease_seconds)

    def run_transcode(body: str) -> None:
        job = TranscodeJob.from_dict(decode(body))
        leased.run(job, lambda: built.transcode.run(job))

    return {INGEST_QUEUE: built.app.orchestrator.handle_message, TRANSCODE_QUEUE: run_transcode}


def bootstrap(settings: ClusterSettings | None = None, *, clock: Clock = utcnow) -> App:
    return _build(settings or load_settings(ClusterSettings), clock).app


def api(settings: ClusterSettings | None = None, *, clock: Clock = utcnow) -> Api:
    built = _build(settings or load_settings(ClusterSettings), clock)
    return sql_api(
        built.app, built.db, built.catalog, built.metrics, built.playback, built.webhooks
    )
