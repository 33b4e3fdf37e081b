"""The transparency report: the figures of a period, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from case_helpers import REPORTER, valid_notice
from shieldwall.cases import (
    decide_appeal,
    decide_case,
    file_appeal,
    report_csv,
    submit_notice,
    transparency_report,
)
from shieldwall.config import Settings
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, Notice, utcnow

CS = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER, Role.REVIEWER}))
SENIOR = Actor("user:senior", frozenset({Role.SENIOR_REVIEWER}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, trusted_flaggers={"Helpline": "tf"})


def test_report_figures(db: Database, settings: Settings) -> None:
    a = submit_notice(db, settings, valid_notice())
    b = submit_notice(
        db, settings, valid_notice(source="trusted_flagger", trusted_flagger_token="tf")
    )
    c = submit_notice(db, settings, valid_notice(possible_minor=True, content_kind="synthetic"))
    with db.transaction() as session:  # notice a came in 60 hours ago: removed late
        case = session.get(CaseItem, a.case_id)
        assert case is not None and case.notice_id is not None
        case.received_at -= timedelta(hours=60)
        notice = session.get(Notice, case.notice_id)
        assert notice is not None
        notice.received_at -= timedelta(hours=60)
    law: dict[str, Any] = {"ground": "law", "legal_ground": "s.66B", "reason": "NCII."}
    decision = decide_case(db, settings, CS, a.case_id, action="remove", **law)
    decide_case(db, settings, CS, b.case_id, action="remove", **law)
    decide_case(db, settings, CS, c.case_id, action="no_action", ground="terms", reason="No.")
    appeal = file_appeal(db, reason="Not me.", appeal_token=decision.appeal_token)
    decide_appeal(db, settings, SENIOR, appeal.id, uphold=True, reason="Wrong.")
    now = utcnow()
    report = transparency_report(
        db, AUDITOR, start=now - timedelta(days=1), end=now + timedelta(days=1)
    )
    notices, decisions, appeals = report["notices"], report["decisions"], report["appeals"]
    assert notices["total"] == 2  # notice a was received before the period
    assert notices["by_source"] == {"person": 1, "trusted_flagger": 1}
    assert notices["by_category"] == {"cyber_violence": 1, "protection_of_minors": 1}
    assert decisions["total"] == 3
    assert decisions["by_ground"]["law"]["remove"] == 2
    assert decisions["by_ground"]["terms"]["no_action"] == 1
    assert decisions["human_decisions"] == 3 and decisions["automated_decisions"] == 0
    assert decisions["removals"] == 2 and decisions["share_removed_within_48h"] == 0.5
    assert decisions["removed_within_48h"] == 1
    assert 29.9 < decisions["median_hours_to_action"] < 30.1  # median of ~60 h and ~0 h
    assert appeals == {
        "filed": 1,
        "decided": 1,
        "upheld": 1,
        "rejected": 0,
        "reversal_rate": 1.0,
        "median_hours_to_decide": appeals["median_hours_to_decide"],
    }
    rows = dict(csv.reader(io.StringIO(report_csv(report))))
    assert rows["metric"] == "value"
    assert rows["notices.by_source.trusted_flagger"] == "1"
    assert rows["appeals.reversal_rate"] == "1.0"
    assert all(v not in str(report) for v in REPORTER.values())
