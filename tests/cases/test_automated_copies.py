"""Exact copies of removed content are removed by the system (recorded as automated); PDQ
(near) copies wait for a person."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from case_helpers import valid_notice
from shieldwall.audit import list_events
from shieldwall.banks import get_entry, prepare_signal
from shieldwall.cases import (
    COPIES_JOB,
    CaseView,
    case_statement,
    decide_appeal,
    decide_case,
    file_appeal,
    get_case,
    list_queue,
    open_copy_tasks,
    submit_notice,
    transparency_report,
)
from shieldwall.config import Settings
from shieldwall.jobs import list_jobs
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.people import Actor, Role
from shieldwall.signals.base import Signal
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, utcnow
from shieldwall.webhooks import CONTENT_ACTION, DELIVER_KIND, SWEEP_KIND, create_webhook
from shieldwall.worker import default_worker

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))
SHA = "ab" * 32
STATEMENT = json.loads(
    (Path(__file__).parent.parent / "data" / "tdb_statement.schema.json").read_text()
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, cases_block_bank="removed")


def _pdq_pair() -> tuple[Signal, Signal]:
    """A PDQ hash and a near copy of it (4 bits apart), both of full quality."""
    bits = random.Random(5).getrandbits(256)
    near = bits ^ 0b1111
    return (
        prepare_signal("pdq", f"{bits:064x}", 100),
        prepare_signal("pdq", f"{near:064x}", 100),
    )


def _removal_with_copies(db: Database, settings: Settings) -> tuple[str, int, dict[str, int]]:
    """A removal of content-123 (sha256 + PDQ) with an exact and a near copy hosted; returns
    (tracking number, case id, content id -> copy task id) after the sweep and the copies job."""
    pdq, pdq_near = _pdq_pair()
    add_to_ledger(
        db,
        [
            ("content-123", [prepare_signal("sha256", SHA), pdq]),
            ("copy-exact", [prepare_signal("sha256", SHA)]),
            ("copy-near", [pdq_near]),
        ],
    )
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-123"]))
    decision = decide_case(
        db,
        settings,
        REVIEWER,
        receipt.case_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act, 47 U.S.C. 223a",
        reason="Intimate image shared without consent.",
    )
    assert decision.sweep_job_id is not None
    worker = default_worker(db, settings=settings, kinds=[SWEEP_KIND, COPIES_JOB])
    while worker.run_once() is not None:  # the sweep, then the copies job (the real handlers)
        pass
    assert [j.state.value for j in list_jobs(db, kind=COPIES_JOB)] == ["done"]
    with db.session() as session:
        rows = session.execute(
            select(CaseItem.content_ids, CaseItem.id).where(CaseItem.parent_id == receipt.case_id)
        ).all()
    tasks = {cids[0]: case_id for cids, case_id in rows}
    return receipt.tracking_number, receipt.case_id, tasks


def test_an_exact_copy_is_removed_by_the_system(db: Database, settings: Settings) -> None:
    tracking, parent_id, tasks = _removal_with_copies(db, settings)
    assert set(tasks) == {"copy-exact", "copy-near"}
    exact: CaseView = get_case(db, REVIEWER, tasks["copy-exact"])
    assert exact.state == "decided" and exact.action == "remove" and exact.ground == "law"
    assert exact.automated is True and exact.decided_by == "system"
    assert exact.kind == "copy" and exact.parent_id == parent_id
    assert exact.tracking_number == tracking and exact.evidence == "exact_match"
    # the near copy waits for a person, in the queue
    near = get_case(db, REVIEWER, tasks["copy-near"])
    assert near.state == "open" and near.automated is False and near.action is None
    assert near.evidence == "near_match" and near.parent_id == parent_id
    assert [c.id for c in list_queue(db, REVIEWER)] == [near.id]
    # the platform is told as for a person's removal: the exact copy only
    events = [j.payload["event"] for j in list_jobs(db, kind=DELIVER_KIND)]
    acted = [(e["data"]["content_id"], e["data"]["action"]) for e in events]
    assert acted == [("content-123", "remove"), ("copy-exact", "remove")]
    sor = events[1]["data"]["statement_of_reasons"]  # for the copy's uploader
    assert sor["automated_decision"] is True and sor["content_ids"] == ["copy-exact"]
    token = sor["redress"]["internal_complaint"]["token"]
    assert file_appeal(db, reason="My own photo.", appeal_token=token).case_id == exact.id
    # audited as automated, by the system
    decided = [e for e in list_events(db) if e.action == "case.decided"]
    assert [(e.actor, e.details["automated"]) for e in decided] == [
        ("user:rev", False),
        ("system", True),
    ]
    assert decided[1].details["case_id"] == exact.id
    assert decided[1].details["parent_id"] == parent_id
    # running the job again opens and decides nothing more
    assert open_copy_tasks(db, parent_id, settings=settings) == []
    assert len(list_jobs(db, kind=DELIVER_KIND)) == 2


def test_the_statement_and_the_tdb_say_the_decision_was_automated(
    db: Database, settings: Settings
) -> None:
    tracking, _, tasks = _removal_with_copies(db, settings)
    sor, tdb = case_statement(db, settings, REVIEWER, tasks["copy-exact"])
    errors = [e.message for e in Draft202012Validator(STATEMENT).iter_errors(tdb)]
    assert errors == []
    assert tdb["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert tdb["automated_detection"] == "Yes" and tdb["source_type"] == "SOURCE_VOLUNTARY"
    assert tdb["illegal_content_legal_ground"] == "TAKE IT DOWN Act, 47 U.S.C. 223a"
    assert sor["automated_decision"] is True and sor["automated_detection"] is True
    assert "removed by automated means" in sor["facts"]
    assert sor["ground"]["explanation"] == f"exact copy of content removed in case {tracking}"
    # the person's own decision is not automated
    parent_sor, parent_tdb = case_statement(
        db, settings, REVIEWER, get_case(db, REVIEWER, tasks["copy-exact"]).parent_id or 0
    )
    assert parent_tdb["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert parent_sor["automated_decision"] is False


def test_the_report_counts_automated_and_human_decisions(db: Database, settings: Settings) -> None:
    _, _, tasks = _removal_with_copies(db, settings)
    decide_case(
        db,
        settings,
        REVIEWER,
        tasks["copy-near"],
        action="remove",
        ground="terms",
        reason="A near copy of removed content.",
    )
    now = utcnow()
    report = transparency_report(
        db, AUDITOR, start=now - timedelta(hours=1), end=now + timedelta(hours=1)
    )
    decisions = report["decisions"]
    assert decisions["total"] == 3
    assert decisions["automated_decisions"] == 1 and decisions["human_decisions"] == 2
    assert decisions["automated_detection"] == 2  # both copies were found by hashing


def test_with_the_setting_off_every_copy_waits_for_a_person(
    db: Database, settings: Settings
) -> None:
    by_hand = settings.model_copy(update={"cases_auto_remove_exact_copies": False})
    _, _, tasks = _removal_with_copies(db, by_hand)
    views = [get_case(db, REVIEWER, i) for i in tasks.values()]
    assert [(v.state, v.automated) for v in views] == [("open", False), ("open", False)]
    assert not [e for e in list_events(db) if e.actor == "system" and "decided" in e.action]


def test_a_reversed_removal_removes_no_more_copies(db: Database, settings: Settings) -> None:
    add_to_ledger(
        db,
        [
            ("content-123", [prepare_signal("sha256", SHA)]),
            ("copy-exact", [prepare_signal("sha256", SHA)]),
        ],
    )
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-123"]))
    decide_case(
        db, settings, REVIEWER, receipt.case_id, action="remove", ground="terms", reason="NCII."
    )
    sweep(db, settings=settings)
    with db.transaction() as session:  # an upheld appeal reversed it before the job ran
        case = session.get(CaseItem, receipt.case_id)
        assert case is not None
        case.state = "reversed"
    (task_id,) = open_copy_tasks(db, receipt.case_id, settings=settings)
    task = get_case(db, REVIEWER, task_id)
    assert task.state == "open" and task.automated is False


def test_an_upheld_appeal_reverses_the_automated_copy_only(
    db: Database, settings: Settings
) -> None:
    tracking, parent_id, tasks = _removal_with_copies(db, settings)
    events = [j.payload["event"] for j in list_jobs(db, kind=DELIVER_KIND)]
    token = events[1]["data"]["statement_of_reasons"]["redress"]["internal_complaint"]["token"]
    appeal = file_appeal(db, reason="I consented to this copy.", appeal_token=token)
    senior = Actor("user:senior", frozenset({Role.SENIOR_REVIEWER}))
    decide_appeal(db, settings, senior, appeal.id, uphold=True, reason="Consent shown.")
    assert get_case(db, REVIEWER, tasks["copy-exact"]).state == "reversed"
    parent = get_case(db, REVIEWER, parent_id)
    assert parent.state == "decided"
    with db.session() as session:
        row = session.get(CaseItem, parent_id)
        assert row is not None and row.block_entry_id is not None
        entry_id = row.block_entry_id
    assert get_entry(db, entry_id).external_ids == {tracking: "active"}  # still banked
    reversed_ = [
        e["data"]["content_id"]
        for e in (j.payload["event"] for j in list_jobs(db, kind=DELIVER_KIND))
        if e["data"]["reversed"]
    ]
    assert reversed_ == ["copy-exact"]
