"""Health: whether this process reaches what it needs (readiness), and the metrics of what
every process shares (the queues' gauges; the catalog's assets by status and its counters
of status changes), reported the same from each: the API at every scrape of ``/metrics``,
a worker every few seconds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..adapters.catalog.base import Catalog, EventLog
from ..adapters.metrics.base import METRICS, Metrics
from ..adapters.queue.base import Queue
from ..adapters.storage.base import ObjectStore
from ..domain.asset import AssetStatus

Probe = Callable[[], object]  # the cheapest read of one dependency; raises if it is down


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # each dependency: "ok", or the name of the error it raised


@dataclass(frozen=True)
class Health:
    queues: Mapping[str, Queue]
    metrics: Metrics
    probes: Mapping[str, Probe] = field(default_factory=dict)
    # assets by status and status changes by type: one truth whichever process reports it
    catalog: EventLog | None = None

    def readiness(self) -> Readiness:
        """Every probe, run: a readiness check reports a failure, it does not raise it."""
        checks: dict[str, str] = {}
        for name, probe in self.probes.items():
            try:
                probe()
                checks[name] = "ok"
            except Exception as exc:  # a readiness probe reports, it does not fail
                checks[name] = type(exc).__name__
        return Readiness(all(v == "ok" for v in checks.values()), checks)

    def report(self) -> None:
        """The shared gauges and the catalog's counters, as they stand now."""
        if self.catalog is not None:
            counts = self.catalog.counts()
            for status in AssetStatus:  # 0 where none are left: no stale count stays behind
                self.metrics.gauge("Assets", counts.get(status.value, 0), status=status.value)
            totals = self.catalog.totals()
            for name, spec in METRICS.items():
                if spec.catalog_event:  # 0 before the first: the series exists from the start
                    self.metrics.total(name, totals.get(spec.catalog_event, 0))
        for name, queue in self.queues.items():
            depth = queue.depth()
            self.metrics.gauge("QueueDepth", depth.visible, queue=name)
            self.metrics.gauge("DeadLetters", depth.dead, queue=name)
            self.metrics.gauge("QueueOldestMessageAge", depth.oldest_age or 0.0, queue=name)


def readiness_probes(
    catalog: Catalog, queues: Mapping[str, Queue], uploads: ObjectStore, outputs: ObjectStore
) -> dict[str, Probe]:
    """The cheapest read of each thing a node serving the API needs."""
    return {
        "catalog": lambda: catalog.get("readyz"),
        "queues": lambda: [q.depth() for q in queues.values()],
        "uploads": lambda: next(iter(uploads.list("uploads/readyz/")), None),
        "outputs": lambda: next(iter(outputs.list("readyz/")), None),
    }
