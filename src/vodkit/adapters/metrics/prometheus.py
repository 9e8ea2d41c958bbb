"""Metrics in a prometheus_client registry, served at ``/metrics``.

``ProcessedAssets`` becomes ``vodkit_processed_assets_total`` and so on. Label
names are fixed per metric on first use, as Prometheus requires. The counters the
catalog counts are exported from its totals (``total``), by a collector of their own,
and this process's increments of them are dropped: each process would otherwise show
only what it saw (``processed_assets_total 4`` with 11 assets completed).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from .base import METRICS, Metric

SUFFIXES = ("_time",)  # JobProcessingTime: vodkit_job_processing_seconds
RENAMED = {"WorkerLastSeen": "vodkit_worker_last_seen_timestamp_seconds"}


def prometheus_name(name: str) -> str:
    return "vodkit_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def exported_name(name: str, metric: Metric) -> str:
    """The name Prometheus shows (a counter's ``_total`` is the client's to add)."""
    if name in RENAMED:
        return RENAMED[name]
    full = prometheus_name(name)
    if metric.unit != "Seconds":
        return full
    for suffix in SUFFIXES:
        full = full.removesuffix(suffix)
    return f"{full}_seconds"


Labels = tuple[tuple[str, str], ...]


class Totals(Collector):
    """The counters counted elsewhere (the catalog), as they were last told."""

    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = {}
        self._lock = threading.Lock()

    def set(self, name: str, value: float, labels: dict[str, str]) -> None:
        with self._lock:
            self._values.setdefault(name, {})[tuple(sorted(labels.items()))] = value

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            found = {name: dict(series) for name, series in self._values.items()}
        for name, series in found.items():
            spec = METRICS[name]
            names = [k for k, _ in next(iter(series))]
            family = CounterMetricFamily(exported_name(name, spec), spec.help, labels=names)
            for labels, value in series.items():
                family.add_metric([v for _, v in labels], value)
            yield family


class PrometheusMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()  # what /metrics exposes
        self._own = self.registry  # where this process's metric objects register
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}
        self._lock = threading.Lock()
        self._totals = Totals()
        self.registry.register(self._totals)

    def serve(self, port: int) -> None:
        """Expose ``/metrics`` on 127.0.0.1:``port``, from a thread of this process."""
        from prometheus_client import start_http_server

        start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def record_in_files(self, directory: Path) -> None:
        """prometheus_client's multiprocess mode, from now on: this process and the children
        it forks (a Celery worker's pool, where the jobs run) record into files in
        ``directory``, and ``registry`` reads them all, exited children's counts included."""
        from prometheus_client import multiprocess, values

        directory.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        # what that variable selects when prometheus_client is imported, which was earlier
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
        with self._lock:
            self._metrics.clear()  # made before the switch: made again, in files
            self._own = CollectorRegistry()  # not exposed: the files are
            self.registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.registry, path=str(directory))  # type: ignore[no-untyped-call]
            self.registry.register(self._totals)  # this process's, as the catalog told it

    def _metric(self, name: str, labels: dict[str, str]) -> Counter | Gauge | Histogram:
        with self._lock:
            if name not in self._metrics:
                self._metrics[name] = self._create(name, sorted(labels))
            metric = self._metrics[name]
        return metric.labels(**labels) if labels else metric

    def _create(self, name: str, label_names: list[str]) -> Counter | Gauge | Histogram:
        spec = METRICS.get(name, Metric("counter", name))
        full = exported_name(name, spec)
        if spec.kind == "gauge":  # across processes: the value written last
            return Gauge(
                full, spec.help, label_names, registry=self._own, multiprocess_mode="mostrecent"
            )
        if spec.kind == "histogram":
            return Histogram(full, spec.help, label_names, buckets=spec.buckets, registry=self._own)
        return Counter(full, spec.help, label_names, registry=self._own)

    def increment(self, name: str, value: float = 1, **labels: str) -> None:
        if name in METRICS and METRICS[name].catalog_event:
            return  # its total is the catalog's (``total``)
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

    def total(self, name: str, value: float, **labels: str) -> None:
        self._totals.set(name, value, labels)
