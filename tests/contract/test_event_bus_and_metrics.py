"""Contracts of the event bus and metrics ports, fakes and real adapters alike."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest, values

from tests.conftest import AwsSession
from vodkit.adapters.events.base import EventBus
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.metrics.base import METRICS, Metrics
from vodkit.adapters.metrics.cloudwatch import CloudWatchMetrics
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.metrics.prometheus import PrometheusMetrics, exported_name, prometheus_name


@pytest.fixture(params=["inprocess", "recording"])
def bus(request: pytest.FixtureRequest) -> EventBus:
    return InProcessEventBus() if request.param == "inprocess" else RecordingEventBus()


@pytest.fixture(params=["memory", "prometheus", "cloudwatch"])
def metrics(request: pytest.FixtureRequest) -> Metrics:
    if request.param == "cloudwatch":  # on moto: every datum is really put
        aws: AwsSession = request.getfixturevalue("aws")
        client = aws.client("cloudwatch")
        sink = CloudWatchMetrics(client, namespace=f"Contract{id(client)}", environment="t")
        sent: list[dict[str, Any]] = []
        client.meta.events.register(
            "provide-client-params.cloudwatch.PutMetricData",
            lambda params, **_: sent.extend(params["MetricData"]),
        )
        sink.sent = sent  # type: ignore[attr-defined]
        return sink
    return MemoryMetrics() if request.param == "memory" else PrometheusMetrics()


def read(metrics: Metrics, name: str, **labels: str) -> float:
    """The current total (counter sum, gauge value, histogram count), as each sink keeps it."""
    kind = METRICS[name].kind
    if isinstance(metrics, MemoryMetrics):
        return metrics.value(name, **labels)
    if isinstance(metrics, PrometheusMetrics):
        full = exported_name(name, METRICS[name])
        sample = {"counter": f"{full}_total", "gauge": full, "histogram": f"{full}_count"}[kind]
        return float(metrics.registry.get_sample_value(sample, labels or None) or 0.0)
    assert isinstance(metrics, CloudWatchMetrics)  # what went to CloudWatch, datum by datum
    values = [d["Value"] for d in metrics.sent if d["MetricName"] == name]  # type: ignore[attr-defined]
    if kind == "gauge":
        return float(values[-1]) if values else 0.0
    return float(len(values) if kind == "histogram" else sum(values))


class Ping:
    pass


class Pong:
    pass


def test_events_reach_the_subscribers_of_their_type(bus: EventBus) -> None:
    got: list[object] = []
    bus.subscribe(Ping, got.append)
    bus.subscribe(Ping, got.append)
    bus.publish(Ping())
    bus.publish(Pong())
    assert len(got) == 2 and all(isinstance(e, Ping) for e in got)


def test_a_subscribers_error_propagates_to_the_publisher(bus: EventBus) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("catalog down")

    bus.subscribe(Ping, broken)
    with pytest.raises(RuntimeError, match="catalog down"):
        bus.publish(Ping())


def test_counters_gauges_and_histograms(metrics: Metrics) -> None:
    metrics.increment("CompletedJobs")
    metrics.increment("CompletedJobs", 2)
    metrics.gauge("QueueDepth", 7, queue="ingest")
    metrics.gauge("QueueDepth", 3, queue="ingest")
    metrics.observe("JobProcessingTime", 12.5)
    metrics.observe("JobProcessingTime", 0.5)
    assert read(metrics, "CompletedJobs") == 3
    assert read(metrics, "QueueDepth", queue="ingest") == 3
    assert read(metrics, "JobProcessingTime") == 2
    assert read(metrics, "FailedJobs") == 0
    if isinstance(metrics, CloudWatchMetrics):  # and CloudWatch has them
        stats = metrics.client.get_metric_statistics(
            Namespace=metrics.namespace,
            MetricName="CompletedJobs",
            Dimensions=metrics.dimensions,
            StartTime=datetime.now(UTC) - timedelta(minutes=5),
            EndTime=datetime.now(UTC) + timedelta(minutes=5),
            Period=600,
            Statistics=["Sum"],
        )
        assert sum(p["Sum"] for p in stats["Datapoints"]) == 3


def test_a_counter_the_catalog_counts_is_its_total_where_metrics_are_read(
    metrics: Metrics,
) -> None:
    """ProcessedAssets: every process reports the catalog's total; a read sink (Prometheus)
    exports that, never a process's own increments (which count what it saw, and would
    collide with the total); a pushed sink (CloudWatch) sums every process's increments."""
    metrics.increment("ProcessedAssets")
    metrics.total("ProcessedAssets", 11)
    metrics.total("ProcessedAssets", 12)
    if isinstance(metrics, CloudWatchMetrics):
        assert read(metrics, "ProcessedAssets") == 1
    elif isinstance(metrics, MemoryMetrics):  # both, as they were told
        assert metrics.value("ProcessedAssets") == 1
        assert metrics.total_of("ProcessedAssets") == 12
    else:
        assert read(metrics, "ProcessedAssets") == 12


def test_prometheus_exports_the_catalogs_totals_across_processes_too(tmp_path: Path) -> None:
    """A cluster worker's children record in files; the totals stay this process's alone."""
    sink = PrometheusMetrics()
    sink.total("FailedAssets", 2)
    sink.record_in_files(tmp_path / "metrics")
    try:
        sink.increment("FailedAssets")  # as a pool child would: not in the files
        sink.increment("CompletedJobs")
        sink.total("FailedAssets", 5)
        text = generate_latest(sink.registry).decode()
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        values.ValueClass = values.MutexValue
    assert text.count("# TYPE vodkit_failed_assets_total counter") == 1
    assert "vodkit_failed_assets_total 5.0" in text
    assert "vodkit_completed_jobs_total 1.0" in text


def test_prometheus_names_follow_its_conventions() -> None:
    assert prometheus_name("ProcessedAssets") == "vodkit_processed_assets"
    registry = PrometheusMetrics()
    registry.total("FailedAssets", 1)  # counted by the catalog, a counter all the same
    registry.increment("CompletedJobs")
    registry.observe("JobProcessingTime", 3)
    text = generate_latest(registry.registry).decode()
    assert "# TYPE vodkit_failed_assets_total counter" in text
    assert "vodkit_failed_assets_total 1.0" in text
    assert "vodkit_completed_jobs_total 1.0" in text
    assert "vodkit_job_processing_seconds_count 1.0" in text
