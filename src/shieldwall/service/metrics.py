"""Prometheus metrics of one service process (``GET /metrics``).

Each app has its own registry, so that several apps in one process (the tests) do not share
counters. Gauges that describe state (index size, sync lag, queue depth) are read when scraped.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ServiceMetrics"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _StateCollector(Collector):
    def __init__(self, read: Callable[[], dict[str, tuple[str, dict[str, float]]]]) -> None:
        self.read = read

    def collect(self) -> list[GaugeMetricFamily]:
        families = []
        for name, (doc, values) in self.read().items():
            if not values:
                continue
            labelled = any(label for label in values)
            family = GaugeMetricFamily(name, doc, labels=["state"] if labelled else None)
            for label, value in values.items():
                if labelled:
                    family.add_metric([label], value)
                else:
                    family.add_metric([], value)
            families.append(family)
        return families


class ServiceMetrics:
    """The counters and histograms the middleware and routes update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shieldwall_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shieldwall_http_request_seconds",
            "HTTP request latency by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.matches = Counter(
            "shieldwall_matches",
            "Matches found, by bank kind and signal type.",
            ["bank_kind", "signal_type"],
            registry=self.registry,
        )
        self.lookups = Counter(
            "shieldwall_lookups",
            "Lookups answered, by whether anything matched.",
            ["matched"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "shieldwall_http_in_flight", "Requests being served.", registry=self.registry
        )

    def add_state(self, read: Callable[[], dict[str, tuple[str, dict[str, float]]]]) -> None:
        """Gauges read at scrape time: ``{name: (help, {state label or "": value})}``."""
        self.registry.register(_StateCollector(read))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
