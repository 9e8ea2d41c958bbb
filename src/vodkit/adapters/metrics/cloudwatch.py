"""Metrics as CloudWatch custom metrics (AWS footprint).

Every datum goes to one namespace with exactly one dimension, ``Environment``
(the stack's EnvironmentSuffix), which is what the template's alarms and
dashboard query: a metric put with any other dimension set is a different
metric to CloudWatch, and the original design's graphs stayed empty for that
reason. Labels (a queue's name...) are therefore not dimensions here: SQS and
Lambda publish their own per-resource metrics.

CloudWatch sums what every process puts, so a counter the catalog counts is put as each
process increments it, and its total (``total``) is not put at all.
"""

from __future__ import annotations

from typing import Any

from ..aws import aws_call
from .base import METRICS, Metric


class CloudWatchMetrics:
    def __init__(self, client: Any, *, namespace: str, environment: str) -> None:
        self.client = client
        self.namespace = namespace
        self.dimensions = [{"Name": "Environment", "Value": environment}]

    @aws_call
    def _put(self, name: str, value: float) -> None:
        unit = METRICS.get(name, Metric("counter", name)).unit
        self.client.put_metric_data(
            Namespace=self.namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": self.dimensions,
                    "Value": value,
                    "Unit": unit,
                }
            ],
        )

    def increment(self, name: str, value: float = 1, **labels: str) -> None:
        self._put(name, value)

    def observe(self, name: str, value: float, **labels: str) -> None:
        self._put(name, value)

    def gauge(self, name: str, value: float, **labels: str) -> None:
        self._put(name, value)

    def total(self, name: str, value: float, **labels: str) -> None:
        pass  # CloudWatch sums the increments every process put
