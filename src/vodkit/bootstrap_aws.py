"""The composition root of the AWS footprint: the same services over AWS adapters.

The Lambda handlers build only what their function's role may call, from the
environment variables the template sets; the CLI (``VODKIT_BACKEND=aws``)
builds an ``App`` over the stack's outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .adapters.catalog.dynamodb import DynamoDbCatalog
from .adapters.events.inprocess import InProcessEventBus
from .adapters.metrics.cloudwatch import CloudWatchMetrics
from .adapters.presets.ssm import load_presets_from_ssm
from .adapters.queue.base import Queue
from .adapters.queue.sqs import SqsQueue
from .adapters.storage.s3 import S3ObjectStore
from .adapters.transcoder.mediaconvert import MediaConvertJobSubmitter
from .adapters.transcoder.mediaconvert_thumbs import MediaConvertThumbnails
from .bootstrap import INGEST_QUEUE, App, make_presets, make_prober, wire
from .config import Settings
from .domain.errors import ConfigError
from .domain.events import JobStateChanged
from .services.ingest import IngestOrchestrator
from .services.observers import watch_metrics
from .services.status import StatusProcessor

JOB_EVENTS_QUEUE = "job-events"


def _client(service: str, **options: Any) -> Any:
    import boto3  # the aws extra: imported only by the AWS footprint

    return boto3.client(service, **options)


def _require(settings: Settings, *names: str) -> None:
    missing = [n for n in names if not getattr(settings, n)]
    if missing:
        raise ConfigError(
            "the aws backend needs "
            + ", ".join(f"VODKIT_{n.upper()}" for n in missing)
            + " (the stack's outputs: `vodkit aws outputs --stack NAME`)"
        )


def _metrics(settings: Settings) -> CloudWatchMetrics:
    return CloudWatchMetrics(
        _client("cloudwatch"),
        namespace=settings.metrics_namespace,
        environment=settings.environment,
    )


def _submitter(settings: Settings) -> MediaConvertJobSubmitter:
    endpoint = (
        {"endpoint_url": settings.mediaconvert_endpoint} if settings.mediaconvert_endpoint else {}
    )
    return MediaConvertJobSubmitter(
        _client("mediaconvert", **endpoint),
        role_arn=settings.mediaconvert_role,
        outputs_bucket=settings.outputs_bucket,
        stack=settings.stack_name,
    )


def ingest_orchestrator(settings: Settings) -> IngestOrchestrator:
    """The ingest function's service: S3, DynamoDB, SSM presets, MediaConvert, CloudWatch."""
    _require(settings, "catalog_table", "presets_parameter", "mediaconvert_role")
    bus = InProcessEventBus()
    watch_metrics(bus, _metrics(settings))
    return IngestOrchestrator(
        uploads=S3ObjectStore(_client("s3"), settings.uploads_bucket),
        catalog=DynamoDbCatalog(_client("dynamodb"), settings.catalog_table),
        prober=make_prober(settings),
        submitter=_submitter(settings),
        presets=load_presets_from_ssm(_client("ssm"), settings.presets_parameter),
        bus=bus,
        rules=settings.rules,
    )


def status_processor(settings: Settings) -> tuple[StatusProcessor, InProcessEventBus]:
    """The status function's service and the bus its events go through (to metrics)."""
    _require(settings, "catalog_table", "outputs_bucket")
    bus = InProcessEventBus()
    catalog = DynamoDbCatalog(_client("dynamodb"), settings.catalog_table)
    outputs = S3ObjectStore(_client("s3"), settings.outputs_bucket)
    status = StatusProcessor(
        catalog=catalog, bus=bus, finish=MediaConvertThumbnails(outputs, catalog)
    )
    bus.subscribe(JobStateChanged, status.handle)
    watch_metrics(bus, _metrics(settings))
    return status, bus


def bootstrap_aws(settings: Settings) -> App:
    """The CLI's view of a deployed stack: catalog, queues and DLQs, the uploads bucket."""
    _require(
        settings,
        "catalog_table",
        "processing_queue_url",
        "processing_dlq_url",
        "job_events_queue_url",
        "job_events_dlq_url",
    )
    sqs = _client("sqs")
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
    s3 = _client("s3")
    return wire(
        settings,
        presets=(
            load_presets_from_ssm(_client("ssm"), settings.presets_parameter)
            if settings.presets_parameter
            else make_presets(settings)
        ),
        uploads=S3ObjectStore(s3, settings.uploads_bucket),
        outputs=S3ObjectStore(s3, settings.outputs_bucket),
        catalog=DynamoDbCatalog(_client("dynamodb"), settings.catalog_table),
        ingest_queue=ingest,
        transcode_queue=None,
        bus=InProcessEventBus(),
        metrics=_metrics(settings),
        prober=make_prober(settings),
        transcoder=None,
        work_root=Path(settings.data_dir) / "work",
        submitter=_submitter(settings),
        queues=queues,
        uploads_announced=True,  # the stack's rule routes the bucket's events to the queue
    )
