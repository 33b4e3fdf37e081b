"""Decisions: who may decide, what a removal does (bank, sweep, copy tasks, webhook event)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from case_helpers import REPORTER, valid_notice
from shieldwall.audit import list_events
from shieldwall.banks import add_entry_in, get_bank, get_entry, prepare_signal
from shieldwall.cases import (
    COPIES_JOB,
    Decision,
    claim_next,
    decide_case,
    decisions,
    file_appeal,
    get_case,
    list_queue,
    notice_status,
    open_copy_tasks,
    submit_notice,
)
from shieldwall.cases.decisions import copies_job
from shieldwall.config import Settings
from shieldwall.errors import (
    Conflict,
    InvalidDecision,
    NotFound,
    NotPermitted,
    StoreError,
    SweepPending,
)
from shieldwall.jobs import list_jobs
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.webhooks import CONTENT_ACTION, DELIVER_KIND, SWEEP_KIND, create_webhook

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
OTHER = Actor("user:rev2", frozenset({Role.REVIEWER}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))
SHA = "ab" * 32
MD5 = "cd" * 16


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        cases_block_bank="removed",
        cases_appeal_url="https://appeals.example/appeal",
    )


def _remove(db: Database, settings: Settings, case_id: int, actor: Actor = REVIEWER) -> Decision:
    return decide_case(
        db,
        settings,
        actor,
        case_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act, 47 U.S.C. 223a",
        reason="Intimate image shared without consent.",
    )


def test_removal_banks_sweeps_and_opens_copy_tasks(db: Database, settings: Settings) -> None:
    add_to_ledger(
        db,
        [
            ("content-123", [prepare_signal("sha256", SHA), prepare_signal("md5", MD5)]),
            ("copy-9", [prepare_signal("sha256", SHA)]),
            ("unrelated", [prepare_signal("sha256", "ef" * 32)]),
        ],
    )
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-123"]))
    claimed = claim_next(db, REVIEWER)
    assert claimed is not None
    decision = decide_case(
        db,
        settings,
        REVIEWER,
        claimed.id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act, 47 U.S.C. 223a",
        reason="Intimate image shared without consent.",
    )
    assert decision.case.state == "decided" and decision.case.action == "remove"
    assert decision.entry_id is not None and decision.sweep_job_id is not None
    entry = get_entry(db, decision.entry_id)
    assert entry.bank == "removed"
    assert entry.external_ids == {receipt.tracking_number: "active"}
    assert {s.type for s in entry.signals} == {"sha256", "md5"}
    assert [j.kind for j in list_jobs(db, kind=SWEEP_KIND)] == [SWEEP_KIND]
    copies = list_jobs(db, kind=COPIES_JOB)
    assert [j.payload["case_id"] for j in copies] == [claimed.id]
    with pytest.raises(SweepPending):  # the copies job waits for the sweep
        copies_job(db, claimed.id, decision.sweep_job_id)
    sweep(db, settings=settings)
    by_hand = settings.model_copy(update={"cases_auto_remove_exact_copies": False})
    opened = open_copy_tasks(db, claimed.id, settings=by_hand)
    assert len(opened) == 1
    tasks = [c for c in list_queue(db, REVIEWER) if c.id in opened]
    assert tasks[0].content_ids == ["copy-9"] and tasks[0].evidence == "exact_match"
    assert tasks[0].tracking_number == receipt.tracking_number
    assert tasks[0].deadline == decision.case.deadline
    assert open_copy_tasks(db, claimed.id, settings=settings) == []  # not twice
    # the action webhook event: case, content, action, ground; no hash, no identity
    events = [j.payload["event"] for j in list_jobs(db, kind=DELIVER_KIND)]
    assert [e["type"] for e in events] == [CONTENT_ACTION]
    data = dict(events[0]["data"])
    assert data.pop("statement_of_reasons") == decision.statement  # for the uploader
    assert data == {
        "case": receipt.tracking_number,
        "content_id": "content-123",
        "action": "remove",
        "ground": "law",
        "reversed": False,
    }
    assert SHA not in str(events) and all(v not in str(events) for v in REPORTER.values())
    actions = [e.action for e in list_events(db)]
    assert actions == [
        "notice.received",
        "case.claimed",
        "bank.create",  # the block bank, made by the first removal
        "case.decided",
        "case.banked",
        "case.copies_opened",
    ]
    status = notice_status(db, receipt.tracking_number, receipt.pin)
    assert status.status == "decided"
    assert [h[1] for h in status.history] == ["received", "in_review", "decided"]


@pytest.mark.parametrize("action", ["restrict", "label", "no_action"])
def test_other_actions_bank_nothing(db: Database, settings: Settings, action: str) -> None:
    add_to_ledger(db, [("content-123", [prepare_signal("sha256", SHA)])])
    receipt = submit_notice(db, settings, valid_notice())
    decision = decide_case(
        db, settings, REVIEWER, receipt.case_id, action=action, ground="terms", reason="Policy 4."
    )
    assert decision.entry_id is None and decision.case.action == action
    assert list_jobs(db, kind=SWEEP_KIND) == []


def test_an_auditor_cannot_decide(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    with pytest.raises(NotPermitted):
        _remove(db, settings, receipt.case_id, AUDITOR)
    assert [e.action for e in list_events(db)] == ["notice.received"]


def test_restricted_cases_are_decided_by_child_safety_reviewers_only(
    db: Database, settings: Settings
) -> None:
    receipt = submit_notice(db, settings, valid_notice(possible_minor=True))
    with pytest.raises(NotFound):
        _remove(db, settings, receipt.case_id, REVIEWER)
    assert _remove(db, settings, receipt.case_id, CHILD_SAFETY).case.state == "decided"


def test_a_case_is_decided_once_by_its_claimer(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    claim_next(db, REVIEWER)
    with pytest.raises(Conflict, match="claimed by another"):
        _remove(db, settings, receipt.case_id, OTHER)
    _remove(db, settings, receipt.case_id)
    with pytest.raises(Conflict, match="decided already"):
        _remove(db, settings, receipt.case_id)


def test_each_missing_decision_field_is_named(db: Database, settings: Settings) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    with pytest.raises(InvalidDecision) as caught:
        decide_case(db, settings, REVIEWER, receipt.case_id, action="ban", ground="law", reason="")
    assert {f["field"] for f in caught.value.fields} == {"action", "reason", "legal_ground"}


def test_a_failure_while_banking_a_removal_leaves_nothing_half_written(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_to_ledger(db, [("content-123", [prepare_signal("sha256", SHA)])])
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-123"]))
    real = add_entry_in

    def add_then_fail(*args: Any, **kwargs: Any) -> int:
        real(*args, **kwargs)  # the entry is written in the transaction, then the step fails
        raise OperationalError("INSERT INTO job", {}, Exception("disk I/O error"))

    monkeypatch.setattr(decisions, "add_entry_in", add_then_fail)
    with pytest.raises(StoreError, match="was not decided: banking the removal failed"):
        _remove(db, settings, receipt.case_id)
    # nothing of the decision, nothing of the banking
    case = get_case(db, REVIEWER, receipt.case_id)
    assert case.state == "open" and case.action is None and case.decided_by is None
    assert get_bank(db, "removed").entry_counts == {}
    assert list_jobs(db, kind=SWEEP_KIND) == [] and list_jobs(db, kind=COPIES_JOB) == []
    assert list_jobs(db, kind=DELIVER_KIND) == []
    # (the block bank was made before: an event of its own, not the decision's)
    assert [e.action for e in list_events(db)] == ["notice.received", "bank.create"]
    assert notice_status(db, receipt.tracking_number, receipt.pin).status == "received"
    # the reviewer tries again: decided and banked together
    monkeypatch.setattr(decisions, "add_entry_in", real)
    decision = _remove(db, settings, receipt.case_id)
    assert decision.entry_id is not None and decision.sweep_job_id is not None
    assert get_entry(db, decision.entry_id).external_ids == {receipt.tracking_number: "active"}
    assert [e.action for e in list_events(db)][-2:] == ["case.decided", "case.banked"]
    assert len(list_jobs(db, kind=SWEEP_KIND)) == 1 and len(list_jobs(db, kind=DELIVER_KIND)) == 1


@pytest.mark.parametrize("action", ["remove", "restrict", "label"])
def test_the_platform_gets_the_statement_of_reasons_with_the_appeal_link(
    db: Database, settings: Settings, action: str
) -> None:
    add_to_ledger(db, [("content-123", [prepare_signal("sha256", SHA)])])
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    notice = valid_notice(content_ids=["content-123", "content-456"])
    receipt = submit_notice(db, settings, notice)
    decision = decide_case(
        db,
        settings,
        REVIEWER,
        receipt.case_id,
        action=action,
        ground="terms",
        reason="Intimate image shared without consent.",
    )
    link = f"https://appeals.example/appeal?code={decision.appeal_token}"
    assert decision.appeal_url == link
    events = [j.payload["event"] for j in list_jobs(db, kind=DELIVER_KIND)]
    assert [e["data"]["content_id"] for e in events] == ["content-123", "content-456"]
    for event in events:
        sor = event["data"]["statement_of_reasons"]
        assert sor["decision"]["action"] == action and sor["case"] == receipt.tracking_number
        complaint = sor["redress"]["internal_complaint"]
        assert complaint["token"] == decision.appeal_token and complaint["link"] == link
        assert sor["ground"]["explanation"] == "Intimate image shared without consent."
        # the reporter's identity never leaves the notice row
        text = json.dumps(event)
        for value in [
            *REPORTER.values(),
            *REPORTER["reporter_email"].split("@"),
            notice["explanation"],
        ]:
            assert value not in text, value
    # the appeal code of the event is the one that works
    appeal = file_appeal(db, reason="Not me.", appeal_token=complaint["token"])
    assert appeal.case_id == receipt.case_id


def test_no_action_sends_no_event_but_has_an_appeal_link(db: Database, settings: Settings) -> None:
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    receipt = submit_notice(db, settings, valid_notice())
    decision = decide_case(
        db, settings, REVIEWER, receipt.case_id, action="no_action", ground="terms", reason="OK."
    )
    assert decision.statement is None and list_jobs(db, kind=DELIVER_KIND) == []
    assert decision.appeal_url.endswith(f"?code={decision.appeal_token}")
