"""The AWS footprint: the same services over S3, DynamoDB, SQS, MediaConvert, SSM, CloudWatch.

The Lambda handlers build only what their function's role may call, from the
environment the template sets (``ingest_orchestrator``, ``lambda_status_processor``);
the CLI builds an ``App`` over a deployed stack's outputs (``bootstrap``).
Nothing of the embedded footprint (SQLite, the local queues and workers, Prometheus) is
imported; FFmpeg only makes ``vodkit demo``'s sample clip.
"""

from __future__ import annotations

from ...adapters.aws import client
from ...adapters.catalog.dynamodb import DynamoDbCatalog
from ...adapters.events.inprocess import InProcessEventBus
from ...adapters.metrics.cloudwatch import CloudWatchMetrics
from ...adapters.presets.file import load_presets
from ...adapters.presets.ssm import load_presets_from_ssm
from ...adapters.queue.base import Queue
from ...adapters.queue.sqs import SqsQueue
from ...adapters.storage.base import ObjectStore
from ...adapters.storage.s3 import S3ObjectStore
from ...adapters.transcoder.base import Finishers
from ...adapters.transcoder.mediaconvert import MediaConvertJobSubmitter
from ...adapters.transcoder.mediaconvert_manifests import MediaConvertManifests
from ...adapters.transcoder.mediaconvert_thumbs import MediaConvertThumbnails
from ...adapters.transcoder.pyav_text import PyavTextConverter
from ...config import load_settings
from ...domain.errors import ConfigError
from ...domain.presets import Presets
from ...services.captions import CaptionService
from ...services.follow import Follower
from ...services.ingest import IngestOrchestrator, StoreAnnouncer
from ...services.observers import watch_metrics
from ...services.processing import RemoteProcessing, runs_on
from ...services.status import StatusProcessor
from ...services.text_conversion import TextConversion
from ..base import (
    INGEST_QUEUE,
    App,
    Ports,
    nothing_to_watch,
    orchestrator,
    prober,
    sample_maker,
    status_processor,
    wire,
)
from .settings import AwsSettings

SETTINGS = AwsSettings
JOB_EVENTS_QUEUE = "job-events"
DELIVERY_GRACE = 120.0  # seconds: S3 -> EventBridge -> SQS -> Lambda, generously


def _metrics(settings: AwsSettings) -> CloudWatchMetrics:
    return CloudWatchMetrics(
        client("cloudwatch"), namespace=settings.metrics_namespace, environment=settings.environment
    )


def _submitter(settings: AwsSettings) -> MediaConvertJobSubmitter:
    endpoint = (
        {"endpoint_url": settings.mediaconvert_endpoint} if settings.mediaconvert_endpoint else {}
    )
    return MediaConvertJobSubmitter(
        client("mediaconvert", **endpoint),
        role_arn=settings.mediaconvert_role,
        outputs_bucket=settings.outputs_bucket,
        stack=settings.stack_name,
        chunk_seconds=settings.chunk_seconds,
    )


def presets(settings: AwsSettings) -> Presets:
    """The stack's (SSM), or the file's where no parameter is named."""
    if settings.presets_parameter:
        found = load_presets_from_ssm(client("ssm"), settings.presets_parameter)
    else:
        found = load_presets(settings.presets)
    return found.validate(settings.rules)


def _ports(settings: AwsSettings, presets: Presets) -> Ports:
    s3 = client("s3")
    return Ports(
        presets=presets,
        uploads=S3ObjectStore(s3, settings.uploads_bucket),
        outputs=S3ObjectStore(s3, settings.outputs_bucket),
        catalog=DynamoDbCatalog(client("dynamodb"), settings.catalog_table),
        bus=InProcessEventBus(),
        metrics=_metrics(settings),
        prober=prober(settings),
        submitter=_submitter(settings),
    )


def ingest_orchestrator(settings: AwsSettings | None = None) -> IngestOrchestrator:
    """The ingest function's service: S3, DynamoDB, SSM presets, MediaConvert, CloudWatch;
    PyAV, in a sandboxed child, for the text tracks MediaConvert cannot read (ASS/SSA)."""
    settings = settings or load_settings(AwsSettings)
    settings.require("catalog_table", "presets_parameter", "mediaconvert_role")
    ports = _ports(settings, load_presets_from_ssm(client("ssm"), settings.presets_parameter))
    watch_metrics(ports.bus, ports.metrics)
    text = TextConversion(
        uploads=ports.uploads,
        outputs=ports.outputs,
        converter=PyavTextConverter(settings.rules.track_limits),
        max_source_bytes=settings.text_source_max_bytes,
    )
    return orchestrator(settings, ports, text_conversion=text)


def _finisher(outputs: ObjectStore) -> Finishers:
    """When a job completes: the poster and sprite, then vodkit's text tracks in its
    manifests (``mediaconvert_manifests``)."""
    return Finishers(MediaConvertThumbnails(outputs), MediaConvertManifests(outputs))


def lambda_status_processor(settings: AwsSettings | None = None) -> StatusProcessor:
    """The status function's service: DynamoDB, S3 (its thumbnails finished and its manifests
    given vodkit's text tracks before an asset completes), CloudWatch."""
    settings = settings or load_settings(AwsSettings)
    settings.require("catalog_table", "outputs_bucket")
    outputs = S3ObjectStore(client("s3"), settings.outputs_bucket)
    catalog = DynamoDbCatalog(client("dynamodb"), settings.catalog_table)
    limits = settings.rules.track_limits
    return status_processor(
        catalog,
        InProcessEventBus(),
        _metrics(settings),
        _finisher(outputs),
        captions=CaptionService(outputs, catalog, limits=limits),
    )


def bootstrap(settings: AwsSettings | None = None) -> App:
    """The CLI's view of a deployed stack: catalog, queues and DLQs, the buckets."""
    settings = settings or load_settings(AwsSettings)
    settings.require(
        "catalog_table",
        "processing_queue_url",
        "processing_dlq_url",
        "job_events_queue_url",
        "job_events_dlq_url",
    )
    sqs = client("sqs")
    ingest = SqsQueue(
        sqs, settings.processing_queue_url, dlq_url=settings.processing_dlq_url, name=INGEST_QUEUE
    )
    queues: dict[str, Queue] = {
        INGEST_QUEUE: ingest,
        JOB_EVENTS_QUEUE: SqsQueue(
            sqs,
            settings.job_events_queue_url,
            dlq_url=settings.job_events_dlq_url,
            name=JOB_EVENTS_QUEUE,
        ),
    }
    ports = _ports(settings, presets(settings))

    def no_server(port: int) -> None:
        raise ConfigError("on the aws footprint, metrics go to CloudWatch: there is none to serve")

    return wire(
        settings,
        ports,
        ingest_queue=ingest,
        queues=queues,
        announcer=StoreAnnouncer(),  # the stack's rule routes the bucket's events to the queue
        processing=lambda *_: RemoteProcessing(
            Follower(ports.catalog, ingest, delivery_grace=DELIVERY_GRACE, poll=2.0),
            work=runs_on("MediaConvert"),
        ),
        make_sample=sample_maker(settings),
        serve_metrics=no_server,
        finisher=_finisher(ports.outputs),
        watch=nothing_to_watch,  # the stack's rule announces every upload
    )
