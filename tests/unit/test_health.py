"""One health service: readiness for the API, the shared gauges for the API and the worker."""

from __future__ import annotations

from datetime import UTC, datetime

from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.metrics.base import METRICS
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.domain.asset import Asset, Job, JobState
from vodkit.domain.errors import Unavailable
from vodkit.domain.outbox import EVENT_TYPES
from vodkit.services.health import Health
from vodkit.services.observers import ASSET_METRICS
from vodkit.services.worker import Worker

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_readiness_names_what_failed_and_does_not_raise() -> None:
    def down() -> object:
        raise Unavailable("the catalog is down")

    health = Health({}, MemoryMetrics(), probes={"catalog": down, "uploads": lambda: None})
    found = health.readiness()
    assert not found.ready and found.checks == {"catalog": "Unavailable", "uploads": "ok"}
    assert Health({}, MemoryMetrics(), probes={"uploads": lambda: None}).readiness().ready


def completed(catalog: MemoryCatalog, asset_id: str) -> None:
    catalog.create(
        Asset.new(
            asset_id=asset_id, uploader_id="u", source_key=f"uploads/u/{asset_id}.mp4",
            source_bucket="b", source_version="", filename="a.mp4", file_size=1, now=T0,
        )
    )  # fmt: skip
    job = Job(f"{asset_id}-j", JobState.SUBMITTED)
    catalog.start_processing(asset_id, [job], formats=["hls"], renditions=[], now=T0)
    catalog.complete_job(asset_id, job.job_id, {}, T0)


def test_the_api_and_the_worker_report_the_same_gauges_and_counters() -> None:
    queue = MemoryQueue("ingest")
    queue.send("one")
    queue.send("two")
    catalog = MemoryCatalog()
    for asset_id in ("a", "b"):
        completed(catalog, asset_id)
    catalog.delete("b", T0)  # gone, and still counted as completed
    served, worked = MemoryMetrics(), MemoryMetrics()
    Health({"ingest": queue}, served, catalog=catalog).report()
    Worker([], queues={"ingest": queue}, metrics=worked, catalog=catalog).run_once()
    for metrics in (served, worked):
        assert metrics.value("Assets", status="COMPLETED") == 1
        assert metrics.total_of("ProcessedAssets") == 2
        assert metrics.total_of("UploadsAccepted") == 2
        assert metrics.total_of("FailedAssets") == 0  # reported before the first failure
        assert metrics.value("QueueDepth", queue="ingest") == 2
        assert metrics.value("DeadLetters", queue="ingest") == 0


def test_the_counters_the_catalog_counts_are_the_asset_status_changes() -> None:
    counted = {name: spec.catalog_event for name, spec in METRICS.items() if spec.catalog_event}
    assert counted == {name: EVENT_TYPES[status] for status, name in ASSET_METRICS.items()}


def test_a_status_no_asset_holds_any_more_reports_zero_not_its_last_count() -> None:
    catalog, metrics = MemoryCatalog(), MemoryMetrics()
    health = Health({}, metrics, catalog=catalog)
    catalog.create(
        Asset.new(
            asset_id="a", uploader_id="u", source_key="uploads/u/a.mp4", source_bucket="b",
            source_version="", filename="a.mp4", file_size=1, now=T0,
        )
    )  # fmt: skip
    health.report()
    assert metrics.value("Assets", status="PENDING") == 1
    job = Job("a-j", JobState.SUBMITTED)
    catalog.start_processing("a", [job], formats=["hls"], renditions=[], now=T0)
    catalog.complete_job("a", job.job_id, {}, T0)
    health.report()
    assert metrics.value("Assets", status="PENDING") == 0
    assert metrics.value("Assets", status="COMPLETED") == 1
