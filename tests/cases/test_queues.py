"""Cases and queues: priority, the restricted queue, claiming without double assignment,
ageing buckets."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from case_helpers import valid_notice
from shieldwall.cases import ageing, claim_next, get_case, list_queue, submit_notice
from shieldwall.config import Settings
from shieldwall.errors import NotFound, NotPermitted
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import CaseItem, MatchRecord

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
OTHER_REVIEWER = Actor("user:rev2", frozenset({Role.REVIEWER}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, trusted_flaggers={"Helpline": "tf"})


def _match(db: Database, content_id: str, signal_type: str) -> None:
    with db.transaction() as session:
        session.add(
            MatchRecord(
                content_id=content_id,
                bank_name="ncii",
                signal_type=signal_type,
                distance=0,
                source="sweep",
            )
        )


def test_priority_trusted_then_evidence_then_deadline(db: Database, settings: Settings) -> None:
    _match(db, "exact-1", "sha256")
    _match(db, "pdq-1", "pdq")
    plain = submit_notice(db, settings, valid_notice(content_ids=["nothing-1"]))
    pdq = submit_notice(db, settings, valid_notice(content_ids=["pdq-1"]))
    exact = submit_notice(db, settings, valid_notice(content_ids=["exact-1"]))
    trusted = submit_notice(
        db,
        settings,
        valid_notice(content_ids=["x"], source="trusted_flagger", trusted_flagger_token="tf"),
    )
    order = [c.tracking_number for c in list_queue(db, REVIEWER, "adult")]
    assert order == [
        trusted.tracking_number,
        exact.tracking_number,
        pdq.tracking_number,
        plain.tracking_number,
    ]
    evidence = {c.tracking_number: c.evidence for c in list_queue(db, REVIEWER)}
    assert evidence[exact.tracking_number] == "exact_match"
    assert evidence[pdq.tracking_number] == "near_match"
    assert evidence[plain.tracking_number] == "none"


def test_urgent_deadlines_come_first(db: Database, settings: Settings) -> None:
    early = submit_notice(db, settings, valid_notice())
    trusted = submit_notice(
        db, settings, valid_notice(source="trusted_flagger", trusted_flagger_token="tf")
    )
    with db.transaction() as session:  # the first notice came in 40 hours ago
        case = session.get(CaseItem, early.case_id)
        assert case is not None
        case.received_at -= timedelta(hours=40)
        case.deadline -= timedelta(hours=40)
    order = [c.tracking_number for c in list_queue(db, REVIEWER)]
    assert order == [early.tracking_number, trusted.tracking_number]


def test_only_child_safety_reviewers_see_the_restricted_queue(
    db: Database, settings: Settings
) -> None:
    adult = submit_notice(db, settings, valid_notice())
    minor = submit_notice(db, settings, valid_notice(possible_minor=True))
    assert [c.tracking_number for c in list_queue(db, REVIEWER, "adult")] == [adult.tracking_number]
    assert [c.tracking_number for c in list_queue(db, CHILD_SAFETY, "restricted")] == [
        minor.tracking_number
    ]
    admin = Actor("user:adm", frozenset({Role.ADMIN, Role.SENIOR_REVIEWER}))
    for actor in (REVIEWER, admin, AUDITOR):
        with pytest.raises(NotPermitted):
            list_queue(db, actor, "restricted")
        with pytest.raises(NotPermitted):
            claim_next(db, actor, "restricted")
        with pytest.raises(NotPermitted):
            ageing(db, actor, "restricted")
        with pytest.raises(NotFound):
            get_case(db, actor, minor.case_id)
    assert get_case(db, CHILD_SAFETY, minor.case_id).queue == "restricted"
    claimed = claim_next(db, CHILD_SAFETY, "restricted")
    assert claimed is not None and claimed.tracking_number == minor.tracking_number
    assert claim_next(db, CHILD_SAFETY, "restricted") is None  # the adult case is not in it


def test_an_auditor_cannot_claim(db: Database, settings: Settings) -> None:
    submit_notice(db, settings, valid_notice())
    with pytest.raises(NotPermitted):
        claim_next(db, AUDITOR, "adult")
    assert len(list_queue(db, AUDITOR, "adult")) == 1  # but may read the queue


def test_claims_are_never_doubled(db: Database, settings: Settings) -> None:
    n = 6
    for _ in range(n):
        submit_notice(db, settings, valid_notice())
    got: dict[str, list[int]] = {REVIEWER.id: [], OTHER_REVIEWER.id: []}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(actor: Actor) -> None:
        try:
            barrier.wait()
            while (case := claim_next(db, actor, "adult")) is not None:
                got[actor.id].append(case.id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in (REVIEWER, OTHER_REVIEWER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    mine, theirs = got[REVIEWER.id], got[OTHER_REVIEWER.id]
    assert not set(mine) & set(theirs)
    assert len(mine) + len(theirs) == n == len(set(mine) | set(theirs))
    for case in list_queue(db, REVIEWER, "adult", state="claimed"):
        expected = REVIEWER.id if case.id in mine else OTHER_REVIEWER.id
        assert case.assigned_to == expected


def test_ageing_buckets(db: Database, settings: Settings) -> None:
    receipts = [submit_notice(db, settings, valid_notice()) for _ in range(3)]
    now = receipts[0].received_at
    with db.transaction() as session:
        for receipt, hours in zip(receipts, (1, 30, 50), strict=True):
            case = session.get(CaseItem, receipt.case_id)
            assert case is not None
            case.received_at = now - timedelta(hours=hours)
            case.deadline = case.received_at + timedelta(hours=48)
    assert ageing(db, REVIEWER, "adult", now=now) == {
        "under_24h": 1,
        "under_48h": 1,
        "overdue": 1,
    }


def test_decided_cases_are_listed_newest_first(db: Database, settings: Settings) -> None:
    from shieldwall.cases import decide_case
    from shieldwall.cases.queues import visible_queues

    first = submit_notice(db, settings, valid_notice(content_ids=["a"]))
    second = submit_notice(db, settings, valid_notice(content_ids=["b"]))
    by_tracking = {c.tracking_number: c.id for c in list_queue(db, REVIEWER)}
    for receipt in (second, first):  # the second notice is decided first
        decide_case(
            db,
            settings,
            REVIEWER,
            by_tracking[receipt.tracking_number],
            action="no_action",
            ground="terms",
            reason="Not an intimate image.",
        )
    decided = list_queue(db, REVIEWER, state="decided")
    assert [c.tracking_number for c in decided] == [first.tracking_number, second.tracking_number]
    assert visible_queues(REVIEWER) == ["adult"]
    assert visible_queues(CHILD_SAFETY) == ["adult", "restricted"]
