"""The duty's metrics on ``/metrics``: cases, deadlines, decisions, appeals, exchange and job
lag, computed at scrape time from the database (:func:`shieldwall.cases.duty.duty_figures`,
:func:`shieldwall.jobs.queue_lag`, the exchanges' last syncs) in a few aggregate queries, and
kept for ``metrics_duty_cache_seconds`` so that frequent scrapes cost the database nothing more.

The figures are the database's, the same from every process: aggregate them across replicas
with ``max``, never ``sum``. docs/operations.md lists them and the alert rules.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from shieldwall.cases.duty import AGE_BUCKETS, DutyFigures, duty_figures
from shieldwall.exchange.exchanges import list_exchanges
from shieldwall.jobs import queue_lag
from shieldwall.store import Database

__all__ = ["DutyCollector"]

log = logging.getLogger("shieldwall.service.duty")


def _float(bound: float) -> str:
    return f"{bound:.1f}"


class DutyCollector(Collector):
    """Builds the duty's metric families; ``cache_seconds`` 0 reads the database at every
    scrape."""

    def __init__(self, db: Database, cache_seconds: float) -> None:
        self.db = db
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return list(self._cached[1])
            try:
                families = self._families()
            except Exception:  # the database is away: /metrics still answers, without these
                log.warning("the duty metrics could not be read", exc_info=True)
                return []
            self._cached = (now, families)
            return list(families)

    def _families(self) -> list[Metric]:
        figures = duty_figures(self.db)
        families = self._case_families(figures)
        lag = GaugeMetricFamily(
            "shieldwall_job_lag_seconds",
            "How late the longest-waiting due job of each kind is (queued or retrying, its "
            "run_after passed).",
            labels=["kind"],
        )
        for kind, seconds in sorted(queue_lag(self.db).items()):
            lag.add_metric([kind], seconds)
        families.append(lag)
        sync_age = GaugeMetricFamily(
            "shieldwall_exchange_sync_age_seconds",
            "Seconds since each enabled exchange's last successful sync (since it was added, "
            "when it never succeeded).",
            labels=["exchange"],
        )
        failing = GaugeMetricFamily(
            "shieldwall_exchange_failing",
            "1 while an enabled exchange's last sync failed, else 0.",
            labels=["exchange"],
        )
        now = datetime.now(UTC)
        for exchange in list_exchanges(self.db):
            if not exchange.enabled:
                continue
            since = exchange.last_success_at or exchange.created_at
            sync_age.add_metric([exchange.name], (now - since).total_seconds())
            # a success clears last_error: set, the last sync failed
            failing.add_metric([exchange.name], 1.0 if exchange.last_error else 0.0)
        families += [sync_age, failing]
        return families

    @staticmethod
    def _case_families(figures: DutyFigures) -> list[Metric]:
        open_cases = GaugeMetricFamily(
            "shieldwall_cases_open",
            "Undecided cases by queue, kind and age since receipt.",
            labels=["queue", "kind", "age"],
        )
        kinds = {(q, k) for q, k, _ in figures.open_cases}
        for queue, kind in sorted(kinds):
            for label, _hours in AGE_BUCKETS:  # every bucket, zeros included
                count = figures.open_cases.get((queue, kind, label), 0)
                open_cases.add_metric([queue, kind, label], float(count))
        overdue = GaugeMetricFamily(
            "shieldwall_cases_overdue", "Undecided cases past their deadline.", labels=["queue"]
        )
        for queue, count in sorted(figures.overdue.items()):
            overdue.add_metric([queue], float(count))
        due = GaugeMetricFamily(
            "shieldwall_cases_due_within",
            "Undecided cases, not yet overdue, whose deadline falls within the next `hours`.",
            labels=["queue", "hours"],
        )
        for (queue, hours), count in sorted(figures.due_within.items()):
            due.add_metric([queue, str(hours)], float(count))
        next_deadline = GaugeMetricFamily(
            "shieldwall_case_next_deadline_seconds",
            "Seconds until the soonest deadline of the queue's undecided cases (negative: "
            "overdue).",
            labels=["queue"],
        )
        for queue, seconds in sorted(figures.next_deadline_seconds.items()):
            next_deadline.add_metric([queue], seconds)
        oldest = GaugeMetricFamily(
            "shieldwall_case_oldest_open_seconds",
            "Age of the queue's oldest undecided case, since receipt.",
            labels=["queue"],
        )
        for queue, seconds in sorted(figures.oldest_open_seconds.items()):
            oldest.add_metric([queue], seconds)
        decisions = HistogramMetricFamily(
            "shieldwall_notice_decision_seconds",
            "Time from a notice's receipt to its case's decision, decided notice cases.",
            labels=["queue"],
        )
        for queue, times in sorted(figures.decision_times.items()):
            buckets = [(_float(b), float(n)) for b, n in times.buckets]
            buckets.append(("+Inf", float(times.count)))
            decisions.add_metric([queue], buckets, sum_value=times.sum_seconds)
        appeals = GaugeMetricFamily("shieldwall_appeals_open", "Appeals waiting for a decision.")
        appeals.add_metric([], float(figures.open_appeals))
        oldest_appeal = GaugeMetricFamily(
            "shieldwall_appeal_oldest_open_seconds",
            "Age of the oldest open appeal (0 when none is open).",
        )
        oldest_appeal.add_metric([], figures.oldest_appeal_seconds or 0.0)
        return [
            open_cases,
            overdue,
            due,
            next_deadline,
            oldest,
            decisions,
            appeals,
            oldest_appeal,
        ]
