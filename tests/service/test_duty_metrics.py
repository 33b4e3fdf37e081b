"""The duty's metrics on /metrics: open cases by queue and age, overdue and due-soon cases,
notice-to-decision times, the appeal backlog, exchange and job lag; scraped after creating
cases, decisions, an appeal, an exchange and jobs, and asserted value by value."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from case_helpers import valid_notice
from service_helpers import LiveService
from shieldwall.cases import decide_case, file_appeal, submit_notice
from shieldwall.exchange.exchanges import add_exchange
from shieldwall.jobs import enqueue
from shieldwall.people import Actor, Role
from shieldwall.store.models import CaseItem, ExchangeRecord, JobRecord, utcnow

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))


def _scrape(service: LiveService) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = service.client().get("/metrics").text
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def _age(service: LiveService, case_id: int, hours: float) -> None:
    """Move a case's receipt (and its 48-hour deadline) ``hours`` into the past."""
    received = utcnow() - timedelta(hours=hours)
    with service.db.transaction() as session:
        session.execute(
            update(CaseItem)
            .where(CaseItem.id == case_id)
            .values(received_at=received, deadline=received + timedelta(hours=48))
        )


def _add_exchange(service: LiveService) -> None:
    add_exchange(
        service.db,
        "partner",
        "shieldwall",
        bank="from-partner",
        settings={
            "base_url": "https://partner.example",
            "bank": "shared",
            "public_key": base64.b64encode(bytes(32)).decode(),
            "api_key": "k" * 32,
        },
        schedule=False,
    )


def test_the_duty_metrics(make_service: Callable[..., LiveService]) -> None:
    service = make_service(metrics_duty_cache_seconds=0)
    settings = service.settings
    empty = _scrape(service)
    assert empty[("shieldwall_appeals_open", ())] == 0
    assert not [k for k in empty if k[0] == "shieldwall_cases_open"]

    ages = {"fresh": 1.0, "day": 30.0, "close": 46.5, "late": 50.0}
    cases = {}
    for name, hours in ages.items():
        receipt = submit_notice(service.db, settings, valid_notice(content_ids=[f"c-{name}"]))
        _age(service, receipt.case_id, hours)
        cases[name] = receipt.case_id
    minor = submit_notice(service.db, settings, valid_notice(possible_minor=True))
    # two decided: one 6 hours after receipt, one 30 hours after
    for hours in (6.0, 30.0):
        receipt = submit_notice(service.db, settings, valid_notice(content_ids=[f"d-{hours}"]))
        decision = decide_case(
            service.db,
            settings,
            REVIEWER,
            receipt.case_id,
            action="remove",
            ground="law",
            legal_ground="TAKE IT DOWN Act",
            reason="Non-consensual intimate image.",
        )
        with service.db.transaction() as session:
            session.execute(
                update(CaseItem)
                .where(CaseItem.id == receipt.case_id)
                .values(received_at=utcnow() - timedelta(hours=hours), decided_at=utcnow())
            )
    file_appeal(service.db, reason="This is not me.", appeal_token=decision.appeal_token)
    # an exchange last synced 2 hours ago, and a job due 10 minutes ago
    _add_exchange(service)
    with service.db.transaction() as session:
        session.execute(
            update(ExchangeRecord).values(last_success_at=utcnow() - timedelta(hours=2))
        )
    job_id = enqueue(service.db, "duty.test", {})
    with service.db.transaction() as session:
        session.execute(
            update(JobRecord)
            .where(JobRecord.id == job_id)
            .values(run_after=utcnow() - timedelta(minutes=10))
        )

    m = _scrape(service)

    def open_cases(age: str, queue: str = "adult") -> float:
        labels = (("age", age), ("kind", "notice"), ("queue", queue))
        return m[("shieldwall_cases_open", labels)]

    assert open_cases("under_12h") == 1
    assert open_cases("12h_24h") == 0
    assert open_cases("24h_36h") == 1
    assert open_cases("36h_48h") == 1
    assert open_cases("over_48h") == 1
    assert open_cases("under_12h", "restricted") == 1
    assert m[("shieldwall_cases_overdue", (("queue", "adult"),))] == 1
    assert m[("shieldwall_cases_overdue", (("queue", "restricted"),))] == 0
    # "close" (46.5 h old) passes 48 hours within 2 hours, not within 1
    due = {
        h: m[("shieldwall_cases_due_within", (("hours", h), ("queue", "adult")))]
        for h in ("1", "2", "24")
    }
    assert due == {"1": 0, "2": 1, "24": 2}
    next_deadline = m[("shieldwall_case_next_deadline_seconds", (("queue", "adult"),))]
    assert -2.5 * 3600 < next_deadline < -1.5 * 3600  # "late" is 2 hours past its deadline
    oldest = m[("shieldwall_case_oldest_open_seconds", (("queue", "adult"),))]
    assert 49.5 * 3600 < oldest < 50.5 * 3600
    hist = {
        labels: value
        for (name, labels), value in m.items()
        if name == "shieldwall_notice_decision_seconds_bucket"
    }
    bucket = {dict(labels)["le"]: value for labels, value in hist.items()}
    assert bucket["3600.0"] == 0 and bucket["28800.0"] == 1  # 6 h: within 8 h
    assert bucket["86400.0"] == 1 and bucket["129600.0"] == 2  # 30 h: within 36 h
    assert bucket["+Inf"] == 2
    assert m[("shieldwall_notice_decision_seconds_count", (("queue", "adult"),))] == 2
    total = m[("shieldwall_notice_decision_seconds_sum", (("queue", "adult"),))]
    assert 35.5 * 3600 < total < 36.5 * 3600
    assert m[("shieldwall_appeals_open", ())] == 1
    assert m[("shieldwall_appeal_oldest_open_seconds", ())] < 600
    age = m[("shieldwall_exchange_sync_age_seconds", (("exchange", "partner"),))]
    assert 1.9 * 3600 < age < 2.5 * 3600
    assert m[("shieldwall_exchange_failing", (("exchange", "partner"),))] == 0
    lag = m[("shieldwall_job_lag_seconds", (("kind", "duty.test"),))]
    assert 590 < lag < 1200
    del minor, cases


def test_the_duty_metrics_are_kept_for_the_cache_time(
    make_service: Callable[..., LiveService],
) -> None:
    service = make_service(metrics_duty_cache_seconds=3600)
    assert _scrape(service)[("shieldwall_appeals_open", ())] == 0
    submit_notice(service.db, service.settings, valid_notice())
    again = _scrape(service)  # within the hour: the figures read before
    assert not [k for k in again if k[0] == "shieldwall_cases_open"]


def test_the_documented_alert_rules_name_served_metrics(
    make_service: Callable[..., LiveService],
) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = yaml.safe_load(block)["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {"ShieldwallCaseDeadlineSoon", "ShieldwallCaseOverdue"}
    service = make_service(metrics_duty_cache_seconds=0)
    submit_notice(service.db, service.settings, valid_notice())
    enqueue(service.db, "duty.test", {})
    _add_exchange(service)
    served = {name for name, _labels in _scrape(service)}
    for rule in rules:
        for name in re.findall(r"shieldwall_[a-z_]+", rule["expr"]):
            assert name in served, (rule["alert"], name)
