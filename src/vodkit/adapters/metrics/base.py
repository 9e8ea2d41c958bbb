"""The metrics port.

Metric names are the CloudWatch names of the original design (``ProcessedAssets``,
``FailedAssets``...); each sink maps them to its own conventions, so a dashboard
on either side reads the same facts.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

SECONDS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
FAST_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
FACTORS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32)


class Metric(NamedTuple):
    kind: str  # counter, gauge or histogram
    help: str
    unit: str = "Count"  # CloudWatch's unit; "Seconds" names a Prometheus histogram *_seconds
    buckets: tuple[float, ...] = SECONDS


METRICS: dict[str, Metric] = {
    "UploadsAccepted": Metric("counter", "Uploads recorded in the catalog as new assets"),
    "ProcessingStarted": Metric("counter", "Assets whose transcode jobs were submitted"),
    "ProcessedAssets": Metric("counter", "Assets that reached COMPLETED"),
    "FailedAssets": Metric("counter", "Assets that reached FAILED"),
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
}


class Metrics(Protocol):
    def increment(self, name: str, value: float = 1, **labels: str) -> None: ...

    def observe(self, name: str, value: float, **labels: str) -> None: ...

    def gauge(self, name: str, value: float, **labels: str) -> None: ...
