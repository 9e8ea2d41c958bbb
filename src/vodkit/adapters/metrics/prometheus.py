"""Metrics in a prometheus_client registry, served at ``/metrics``.

``ProcessedAssets`` becomes ``vodkit_processed_assets_total`` and so on. Label
names are fixed per metric on first use, as Prometheus requires.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .base import METRICS

BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)


def prometheus_name(name: str) -> str:
    return "vodkit_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class PrometheusMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}
        self._lock = threading.Lock()

    def _metric(self, name: str, labels: dict[str, str]) -> Counter | Gauge | Histogram:
        with self._lock:
            if name not in self._metrics:
                kind, doc = METRICS.get(name, ("counter", name))
                label_names = sorted(labels)
                full = prometheus_name(name)
                if kind == "gauge":
                    self._metrics[name] = Gauge(full, doc, label_names, registry=self.registry)
                elif kind == "histogram":
                    self._metrics[name] = Histogram(
                        full.removesuffix("_time") + "_seconds",
                        doc,
                        label_names,
                        buckets=BUCKETS,
                        registry=self.registry,
                    )
                else:
                    self._metrics[name] = Counter(full, doc, label_names, registry=self.registry)
            metric = self._metrics[name]
        return metric.labels(**labels) if labels else metric

    def increment(self, name: str, value: float = 1, **labels: str) -> None:
        metric = self._metric(name, labels)
        assert isinstance(metric, Counter)
        metric.inc(value)

    def observe(self, name: str, value: float, **labels: str) -> None:
        metric = self._metric(name, labels)
        assert isinstance(metric, Histogram)
        metric.observe(value)

    def gauge(self, name: str, value: float, **labels: str) -> None:
        metric = self._metric(name, labels)
        assert isinstance(metric, Gauge)
        metric.set(value)
