"""Appeals: who may appeal and until when, who may decide, and what an upheld appeal undoes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from case_helpers import valid_notice
from shieldwall.audit import list_events
from shieldwall.banks import get_entry, prepare_signal
from shieldwall.cases import (
    APPEAL_WINDOW,
    Decision,
    decide_appeal,
    decide_case,
    file_appeal,
    get_appeal,
    list_appeals,
    list_queue,
    notice_status,
    submit_notice,
)
from shieldwall.config import Settings
from shieldwall.errors import AppealWindowClosed, Conflict, NotFound, NotPermitted
from shieldwall.jobs import list_jobs
from shieldwall.matching import Matcher, add_to_ledger
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.webhooks import CONTENT_ACTION, DELIVER_KIND, create_webhook

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
SENIOR = Actor("user:senior", frozenset({Role.SENIOR_REVIEWER, Role.REVIEWER}))
OTHER_SENIOR = Actor("user:senior2", frozenset({Role.SENIOR_REVIEWER}))
ADMIN = Actor("user:admin", frozenset({Role.ADMIN}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))
SHA = "ab" * 32


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, cases_block_bank="removed")


def _removed(
    db: Database, settings: Settings, decider: Actor = SENIOR
) -> tuple[str, str, Decision]:
    add_to_ledger(db, [("content-123", [prepare_signal("sha256", SHA)])])
    receipt = submit_notice(db, settings, valid_notice(content_ids=["content-123"]))
    decision = decide_case(
        db,
        settings,
        decider,
        receipt.case_id,
        action="remove",
        ground="law",
        legal_ground="TAKE IT DOWN Act",
        reason="Non-consensual intimate image.",
    )
    return receipt.tracking_number, receipt.pin, decision


def test_an_upheld_appeal_reverses_the_removal(db: Database, settings: Settings) -> None:
    probe = Matcher(db, settings=settings)
    create_webhook(db, "https://platform.example/hook", [CONTENT_ACTION], "s" * 32)
    tracking, pin, decision = _removed(db, settings)
    assert decision.entry_id is not None
    probe.refresh()
    assert len(probe.find([prepare_signal("sha256", SHA)])) == 1  # banked: it matches
    appeal = file_appeal(db, reason="This is not me.", appeal_token=decision.appeal_token)
    assert appeal.appellant == "uploader" and appeal.state == "open"
    assert [a.id for a in list_appeals(db, AUDITOR)] == [appeal.id]
    with pytest.raises(NotPermitted, match="someone other"):
        decide_appeal(db, settings, SENIOR, appeal.id, uphold=True, reason="x")  # own decision
    for actor in (REVIEWER, AUDITOR):
        with pytest.raises(NotPermitted):
            decide_appeal(db, settings, actor, appeal.id, uphold=True, reason="x")
    done = decide_appeal(db, settings, OTHER_SENIOR, appeal.id, uphold=True, reason="Not NCII.")
    assert done.state == "upheld" and done.decided_by == OTHER_SENIOR.id
    entry = get_entry(db, decision.entry_id)
    assert entry.external_ids == {tracking: "withdrawn"}
    matcher = Matcher(db, settings=settings)  # the signals no longer match
    assert matcher.find([prepare_signal("sha256", SHA)]) == []
    events = [j.payload["event"]["data"] for j in list_jobs(db, kind=DELIVER_KIND)]
    assert [e["reversed"] for e in events] == [False, True]
    assert events[1]["action"] == "remove" and events[1]["case"] == tracking
    assert [h[1] for h in notice_status(db, tracking, pin).history][-1] == "appeal_decided"
    actions = [e.action for e in list_events(db)]
    assert actions[-3:] == ["appeal.filed", "bank.withdraw", "appeal.decided"]
    assert list_events(db)[-2].actor == OTHER_SENIOR.id
    with pytest.raises(Conflict):
        decide_appeal(db, settings, ADMIN, appeal.id, uphold=False, reason="again")


def test_a_rejected_appeal_changes_nothing(db: Database, settings: Settings) -> None:
    tracking, pin, decision = _removed(db, settings)
    appeal = file_appeal(db, reason="Please.", tracking_number=tracking, pin=pin)
    assert appeal.appellant == "notifier"
    with pytest.raises(Conflict, match="already open"):
        file_appeal(db, reason="Again.", appeal_token=decision.appeal_token)
    done = decide_appeal(db, settings, ADMIN, appeal.id, uphold=False, reason="Correct decision.")
    assert done.state == "rejected"
    assert decision.entry_id is not None
    assert get_entry(db, decision.entry_id).external_ids == {tracking: "active"}


def test_a_notifier_appeal_against_no_action_reopens_the_case(
    db: Database, settings: Settings
) -> None:
    receipt = submit_notice(db, settings, valid_notice())
    decide_case(
        db, settings, REVIEWER, receipt.case_id, action="no_action", ground="terms", reason="OK."
    )
    appeal = file_appeal(
        db, reason="It is me.", tracking_number=receipt.tracking_number, pin=receipt.pin
    )
    decide_appeal(db, settings, SENIOR, appeal.id, uphold=True, reason="Wrong.")
    assert [c.id for c in list_queue(db, REVIEWER)] == [receipt.case_id]


def test_appeals_close_after_six_months(db: Database, settings: Settings) -> None:
    _, _, decision = _removed(db, settings)
    decided = decision.case.decided_at
    assert decided is not None
    later = decided + APPEAL_WINDOW + timedelta(minutes=1)
    with pytest.raises(AppealWindowClosed, match="6 months"):
        file_appeal(db, reason="Late.", appeal_token=decision.appeal_token, now=later)
    file_appeal(
        db, reason="In time.", appeal_token=decision.appeal_token, now=later - timedelta(days=1)
    )


def test_wrong_credentials_are_not_found(db: Database, settings: Settings) -> None:
    tracking, _, _ = _removed(db, settings)
    with pytest.raises(NotFound):
        file_appeal(db, reason="x", appeal_token="guess")
    with pytest.raises(NotFound):
        file_appeal(db, reason="x", tracking_number=tracking, pin="0000000000")
    receipt = submit_notice(db, settings, valid_notice())
    with pytest.raises(Conflict, match="not been decided"):
        file_appeal(db, reason="x", tracking_number=receipt.tracking_number, pin=receipt.pin)


def test_get_appeal_shows_the_decision_and_hides_restricted_cases(
    db: Database, settings: Settings
) -> None:
    tracking, _, decision = _removed(db, settings)
    appeal = file_appeal(db, reason="Not me.", appeal_token=decision.appeal_token)
    detail = get_appeal(db, AUDITOR, appeal.id)
    assert detail.appeal == appeal and detail.appeal.tracking_number == tracking
    assert (detail.action, detail.ground, detail.legal_ground) == (
        "remove",
        "law",
        "TAKE IT DOWN Act",
    )
    assert detail.decision_reason == "Non-consensual intimate image."
    assert detail.decided_by == SENIOR.id and detail.case_state == "decided"
    with pytest.raises(NotFound):
        get_appeal(db, AUDITOR, appeal.id + 1)
    with pytest.raises(NotPermitted):
        get_appeal(db, Actor("user:nobody", frozenset()), appeal.id)
    minor = submit_notice(db, settings, valid_notice(possible_minor=True))
    child_safety = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))
    restricted = decide_case(
        db, settings, child_safety, minor.case_id, action="no_action", ground="terms", reason="x"
    )
    hidden = file_appeal(db, reason="Please.", appeal_token=restricted.appeal_token)
    with pytest.raises(NotFound):
        get_appeal(db, ADMIN, hidden.id)
    assert get_appeal(db, child_safety, hidden.id).queue == "restricted"
