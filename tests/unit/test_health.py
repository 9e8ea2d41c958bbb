"""One health service: readiness for the API, the shared gauges for the API and the worker."""

from __future__ import annotations

from vodkit.adapters.metrics.memory import MemoryMetrics
from vodkit.adapters.queue.memory import MemoryQueue
from vodkit.domain.errors import Unavailable
from vodkit.services.health import Health
from vodkit.services.worker import Worker


def test_readiness_names_what_failed_and_does_not_raise() -> None:
    def down() -> object:
        raise Unavailable("the catalog is down")

    health = Health({}, MemoryMetrics(), probes={"catalog": down, "uploads": lambda: None})
    found = health.readiness()
    assert not found.ready and found.checks == {"catalog": "Unavailable", "uploads": "ok"}
    assert Health({}, MemoryMetrics(), probes={"uploads": lambda: None}).readiness().ready


def test_the_api_and_the_worker_report_the_same_gauges() -> None:
    queue = MemoryQueue("ingest")
    queue.send("one")
    queue.send("two")
    served, worked = MemoryMetrics(), MemoryMetrics()
    Health({"ingest": queue}, served, assets=lambda: {"COMPLETED": 11}).report()
    Worker([], queues={"ingest": queue}, metrics=worked).run_once()
    assert served.value("Assets", status="COMPLETED") == 11
    for metrics in (served, worked):
        assert metrics.value("QueueDepth", queue="ingest") == 2
        assert metrics.value("DeadLetters", queue="ingest") == 0
