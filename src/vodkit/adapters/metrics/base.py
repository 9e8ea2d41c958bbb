"""The metrics port.

Metric names are the CloudWatch names of the original design (``ProcessedAssets``,
``FailedAssets``...); each sink maps them to its own conventions, so a dashboard
on either side reads the same facts.

A few counters are counted by the catalog (``catalog_event``): how many status changes
of a type it recorded. A sink that is read (Prometheus) exports that total, which every
process reports alike, and not a process's own increments, which only count what that
process saw; a sink that is pushed to (CloudWatch) sums every process's increments itself.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from ...domain.asset import AssetStatus
from ...domain.outbox import EVENT_TYPES

SECONDS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
FAST_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
FACTORS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32)


class Metric(NamedTuple):
    kind: str  # counter, gauge or histogram
    help: str
    unit: str = "Count"  # CloudWatch's unit; "Seconds" names a Prometheus histogram *_seconds
    buckets: tuple[float, ...] = SECONDS
    catalog_event: str | None = None  # a counter the catalog counts: its events of this type


METRICS: dict[str, Metric] = {
    "UploadsAccepted": Metric(
        "counter",
        "Uploads recorded in the catalog as new assets",
        catalog_event=EVENT_TYPES[AssetStatus.PENDING],
    ),
    "ProcessingStarted": Metric(
        "counter",
        "Assets whose transcode jobs were submitted",
        catalog_event=EVENT_TYPES[AssetStatus.PROCESSING],
    ),
    "ProcessedAssets": Metric(
        "counter", "Assets that reached COMPLETED", catalog_event=EVENT_TYPES[AssetStatus.COMPLETED]
    ),
    "FailedAssets": Metric(
        "counter", "Assets that reached FAILED", catalog_event=EVENT_TYPES[AssetStatus.FAILED]
    ),
    "AssetFailures": Metric("counter", "Assets that reached FAILED, by error code"),
    "CompletedJobs": Metric("counter", "Transcode jobs that completed"),
    "FailedJobs": Metric("counter", "Transcode jobs that ended in ERROR"),
    "JobProcessingTime": Metric("histogram", "Wall-clock seconds a transcode job took", "Seconds"),
    "TranscodeRealtimeFactor": Metric(
        "histogram", "Seconds of media transcoded per wall-clock second", "None", FACTORS
    ),
    "QueueDepth": Metric("gauge", "Messages waiting in a queue"),
    "DeadLetters": Metric("gauge", "Messages in a queue's dead-letter queue"),
    "QueueOldestMessageAge": Metric(
        "gauge", "Seconds the oldest waiting message has waited", "Seconds"
    ),
    "WorkerLastSeen": Metric("gauge", "Unix time a worker last reported", "Seconds"),
    "Assets": Metric("gauge", "Assets in the catalog, by status"),
    "HttpRequests": Metric("counter", "HTTP requests, by method, route and status"),
    "HttpRequestDuration": Metric(
        "histogram", "Seconds an HTTP request took, by method and route", "Seconds", FAST_SECONDS
    ),
    "WebhookDeliveries": Metric("counter", "Webhook delivery attempts, by outcome"),
    "ChunkRuns": Metric(
        "counter", "Runs of a chunked transcode's pieces, by outcome (done, retried, failed)"
    ),
}


class Metrics(Protocol):
    def increment(self, name: str, value: float = 1, **labels: str) -> None: ...

    def observe(self, name: str, value: float, **labels: str) -> None: ...

    def gauge(self, name: str, value: float, **labels: str) -> None: ...

    def total(self, name: str, value: float, **labels: str) -> None:
        """A counter counted by the catalog (``catalog_event``), as it stands now."""
        ...
