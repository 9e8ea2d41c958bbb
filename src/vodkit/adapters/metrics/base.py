"""The metrics port.

Metric names are the CloudWatch names of the original design (``ProcessedAssets``,
``FailedAssets``...); each sink maps them to its own conventions, so a dashboard
on either side reads the same facts.
"""

from __future__ import annotations

from typing import Protocol

# name -> (kind, help)
METRICS: dict[str, tuple[str, str]] = {
    "UploadsAccepted": ("counter", "Uploads recorded in the catalog as new assets"),
    "ProcessingStarted": ("counter", "Assets whose transcode jobs were submitted"),
    "ProcessedAssets": ("counter", "Assets that reached COMPLETED"),
    "FailedAssets": ("counter", "Assets that reached FAILED"),
    "CompletedJobs": ("counter", "Transcode jobs that completed"),
    "FailedJobs": ("counter", "Transcode jobs that ended in ERROR"),
    "JobProcessingTime": ("histogram", "Wall-clock seconds a transcode job took"),
    "QueueDepth": ("gauge", "Messages waiting in a queue"),
    "DeadLetters": ("gauge", "Messages in a queue's dead-letter queue"),
}


class Metrics(Protocol):
    def increment(self, name: str, value: float = 1, **labels: str) -> None: ...

    def observe(self, name: str, value: float, **labels: str) -> None: ...

    def gauge(self, name: str, value: float, **labels: str) -> None: ...
