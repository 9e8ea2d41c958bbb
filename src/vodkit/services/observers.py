"""Observers of the event bus: metrics now; webhooks and alerts plug in the same way."""

from __future__ import annotations

from ..adapters.events.base import EventBus
from ..adapters.metrics.base import Metrics
from ..domain.asset import AssetStatus, JobState
from ..domain.events import AssetStatusChanged, JobStateChanged

ASSET_METRICS = {
    AssetStatus.PENDING: "UploadsAccepted",
    AssetStatus.PROCESSING: "ProcessingStarted",
    AssetStatus.COMPLETED: "ProcessedAssets",
    AssetStatus.FAILED: "FailedAssets",
}
JOB_METRICS = {
    JobState.COMPLETE: "CompletedJobs",
    JobState.ERROR: "FailedJobs",
    JobState.CANCELED: "FailedJobs",
}


def watch_metrics(bus: EventBus, metrics: Metrics) -> None:
    def on_asset(event: AssetStatusChanged) -> None:
        if name := ASSET_METRICS.get(event.status):
            metrics.increment(name)
        if event.status is AssetStatus.FAILED:
            metrics.increment("AssetFailures", code=event.error_code or "Unknown")

    def on_job(event: JobStateChanged) -> None:
        if name := JOB_METRICS.get(event.status):
            metrics.increment(name)

    bus.subscribe(AssetStatusChanged, on_asset)
    bus.subscribe(JobStateChanged, on_job)
