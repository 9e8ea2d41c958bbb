"""Contracts of the event bus and metrics ports, fakes and real adapters alike."""

from __future__ import annotations

import pytest

from tests.conftest import AwsSession
from vodkit.adapters.events.base import EventBus
from vodkit.adapters.events.inprocess import InProcessEventBus
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.metrics.base import Metrics
from vodkit.adapters.metrics.cloudwatch import CloudWatchMetrics
from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.metrics.prometheus import PrometheusMetrics, prometheus_name


@pytest.fixture(params=["inprocess", "recording"])
def bus(request: pytest.FixtureRequest) -> EventBus:
    return InProcessEventBus() if request.param == "inprocess" else RecordingEventBus()


@pytest.fixture(params=["memory", "prometheus", "cloudwatch"])
def metrics(request: pytest.FixtureRequest) -> Metrics:
    if request.param == "cloudwatch":  # on moto: every datum is really put
        aws: AwsSession = request.getfixturevalue("aws")
        return CloudWatchMetrics(aws.client("cloudwatch"), namespace="Contract", environment="t")
    return MemoryMetrics() if request.param == "memory" else PrometheusMetrics()


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
    metrics.increment("ProcessedAssets")
    metrics.increment("ProcessedAssets", 2)
    metrics.gauge("QueueDepth", 7, queue="ingest")
    metrics.gauge("QueueDepth", 3, queue="ingest")
    metrics.observe("JobProcessingTime", 12.5)
    metrics.observe("JobProcessingTime", 0.5)
    assert metrics.value("ProcessedAssets") == 3
    assert metrics.value("QueueDepth", queue="ingest") == 3
    assert metrics.value("JobProcessingTime") == 2
    assert metrics.value("FailedAssets") == 0


def test_prometheus_names_follow_its_conventions() -> None:
    assert prometheus_name("ProcessedAssets") == "vodkit_processed_assets"
    registry = PrometheusMetrics()
    registry.increment("FailedAssets")
    registry.observe("JobProcessingTime", 3)
    from prometheus_client import generate_latest

    text = generate_latest(registry.registry).decode()
    assert "vodkit_failed_assets_total 1.0" in text
    assert "vodkit_job_processing_seconds_count 1.0" in text
