"""Health: whether this process reaches what it needs (readiness), and the gauges of what
every process shares (the queues, the catalog's assets), reported the same from each: the
API at every scrape of ``/metrics``, a worker every few seconds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..adapters.metrics.base import Metrics
from ..adapters.queue.base import Queue

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
    # assets by status, from the catalog: one truth whichever process reports it
    assets: Callable[[], Mapping[str, int]] | None = None

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
        """The shared gauges, as they stand now."""
        if self.assets is not None:
            for status, count in self.assets().items():
                self.metrics.gauge("Assets", count, status=status)
        for name, queue in self.queues.items():
            depth = queue.depth()
            self.metrics.gauge("QueueDepth", depth.visible, queue=name)
            self.metrics.gauge("DeadLetters", depth.dead, queue=name)
            self.metrics.gauge("QueueOldestMessageAge", depth.oldest_age or 0.0, queue=name)
