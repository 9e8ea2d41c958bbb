"""Metrics for unit tests: a dictionary."""

from __future__ import annotations

from collections import defaultdict


class MemoryMetrics:
    def __init__(self) -> None:
        self.values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}  # the catalog's

    @staticmethod
    def _key(name: str, labels: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return name, tuple(sorted(labels.items()))

    def increment(self, name: str, value: float = 1, **labels: str) -> None:
        self.values[self._key(name, labels)] += value

    def observe(self, name: str, value: float, **labels: str) -> None:
        self.values[self._key(name, labels)] += 1

    def gauge(self, name: str, value: float, **labels: str) -> None:
        self.values[self._key(name, labels)] = value

    def total(self, name: str, value: float, **labels: str) -> None:
        self.totals[self._key(name, labels)] = value

    def value(self, name: str, **labels: str) -> float:
        """The current total (counter sum, gauge value, histogram count): for tests."""
        return self.values.get(self._key(name, labels), 0.0)

    def total_of(self, name: str, **labels: str) -> float:
        """The total last reported from the catalog: for tests."""
        return self.totals.get(self._key(name, labels), 0.0)
