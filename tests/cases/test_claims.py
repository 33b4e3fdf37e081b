"""Claims are released by their claimer (or an admin) and no longer hold after
``case_claim_minutes``: the next reviewer may claim or decide the case."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from case_helpers import valid_notice
from shieldwall.audit import list_events
from shieldwall.cases import (
    CaseView,
    Decision,
    claim_next,
    decide_case,
    get_case,
    release_claim,
    submit_notice,
)
from shieldwall.config import Settings
from shieldwall.errors import Conflict, NotFound, NotPermitted
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import CaseItem

ALICE = Actor("user:alice", frozenset({Role.REVIEWER}))
BOB = Actor("user:bob", frozenset({Role.REVIEWER}))
CAROL = Actor("user:carol", frozenset({Role.REVIEWER}))
ADMIN = Actor("user:root", frozenset({Role.ADMIN}))
AUDITOR = Actor("user:aud", frozenset({Role.AUDITOR}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, case_claim_minutes=30)


def _age_claim(db: Database, case_id: int, minutes: float) -> None:
    """Make the case's claim ``minutes`` old."""
    with db.transaction() as session:
        case = session.get(CaseItem, case_id)
        assert case is not None and case.claimed_at is not None
        case.claimed_at -= timedelta(minutes=minutes)


def _claimed_by_alice(db: Database, settings: Settings) -> CaseView:
    submit_notice(db, settings, valid_notice())
    claimed = claim_next(db, ALICE, settings=settings)
    assert claimed is not None and claimed.assigned_to == ALICE.id
    assert claimed.claimed_at is not None
    return claimed


def _label(db: Database, settings: Settings, actor: Actor, case_id: int) -> Decision:
    return decide_case(
        db, settings, actor, case_id, action="label", ground="terms", reason="Synthetic image."
    )


def test_the_claimer_releases_a_claim(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    with pytest.raises(NotPermitted):
        release_claim(db, BOB, claimed.id)  # not theirs
    with pytest.raises(NotPermitted):
        release_claim(db, AUDITOR, claimed.id)
    released = release_claim(db, ALICE, claimed.id)
    assert released.state == "open" and released.assigned_to is None
    assert released.claimed_at is None
    with pytest.raises(Conflict, match="not claimed"):
        release_claim(db, ALICE, claimed.id)
    again = claim_next(db, BOB, settings=settings)
    assert again is not None and again.id == claimed.id and again.assigned_to == BOB.id
    claims = [e for e in list_events(db) if e.action == "case.claimed"]
    assert [(e.actor, e.details) for e in claims] == [(ALICE.id, {}), (BOB.id, {})]
    released_events = [e for e in list_events(db) if e.action == "case.released"]
    assert [(e.actor, e.details["claimed_by"]) for e in released_events] == [(ALICE.id, ALICE.id)]


def test_an_admin_releases_anyones_claim(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    assert release_claim(db, ADMIN, claimed.id).state == "open"
    (event,) = [e for e in list_events(db) if e.action == "case.released"]
    assert event.actor == ADMIN.id and event.details["claimed_by"] == ALICE.id
    with pytest.raises(NotFound):
        release_claim(db, ADMIN, 999)


def test_a_fresh_claim_holds(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 29)
    assert claim_next(db, BOB, settings=settings) is None
    with pytest.raises(Conflict, match="claimed by another reviewer"):
        _label(db, settings, BOB, claimed.id)
    assert get_case(db, BOB, claimed.id).assigned_to == ALICE.id


def test_an_old_claim_no_longer_holds(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 31)
    taken = claim_next(db, BOB, settings=settings)
    assert taken is not None and taken.id == claimed.id and taken.assigned_to == BOB.id
    events = [e for e in list_events(db) if e.action == "case.claimed"]
    assert events[-1].actor == BOB.id and events[-1].details == {"expired_claim_of": ALICE.id}
    # Bob's claim is fresh: Alice's old claim gives her nothing over it
    with pytest.raises(Conflict):
        _label(db, settings, ALICE, claimed.id)
    assert _label(db, settings, BOB, claimed.id).case.decided_by == BOB.id


def test_another_reviewer_decides_a_case_whose_claim_is_old(
    db: Database, settings: Settings
) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 31)
    decision = _label(db, settings, BOB, claimed.id)
    assert decision.case.state == "decided" and decision.case.decided_by == BOB.id
    assert decision.case.assigned_to == BOB.id


def test_the_window_is_the_setting(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 6)
    assert claim_next(db, BOB, settings=settings) is None
    short = settings.model_copy(update={"case_claim_minutes": 5})
    taken = claim_next(db, BOB, settings=short)
    assert taken is not None and taken.id == claimed.id


def test_two_reviewers_race_for_an_expired_claim(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 31)
    barrier = threading.Barrier(2)
    got: dict[str, CaseView | None] = {}
    errors: list[BaseException] = []

    def claim(actor: Actor) -> None:
        try:
            barrier.wait()
            got[actor.id] = claim_next(db, actor, settings=settings)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(a,)) for a in (BOB, CAROL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    winners = [actor_id for actor_id, view in got.items() if view is not None]
    assert len(winners) == 1  # never both
    assert get_case(db, ALICE, claimed.id).assigned_to == winners[0]


def test_the_old_claimer_deciding_races_a_new_claim(db: Database, settings: Settings) -> None:
    claimed = _claimed_by_alice(db, settings)
    _age_claim(db, claimed.id, 31)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def decide() -> None:
        barrier.wait()
        try:
            results["decided"] = _label(db, settings, ALICE, claimed.id)
        except Conflict as exc:
            results["decided"] = exc

    def claim() -> None:
        barrier.wait()
        results["claimed"] = claim_next(db, BOB, settings=settings)

    threads = [threading.Thread(target=decide), threading.Thread(target=claim)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = get_case(db, ALICE, claimed.id)
    if isinstance(results["decided"], Decision):  # Alice won: Bob got nothing
        assert results["claimed"] is None
        assert final.state == "decided" and final.decided_by == ALICE.id
    else:  # Bob won: Alice's decision was refused, nothing of it recorded
        assert isinstance(results["decided"], Conflict)
        assert isinstance(results["claimed"], CaseView)
        assert final.state == "claimed" and final.assigned_to == BOB.id
        assert final.action is None
