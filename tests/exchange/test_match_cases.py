"""Matches on an exchange's bank open cases: a partner's ``auto_remove`` decides whether its
exact matches are removed by the system or go to a person; matches on NCMEC's hashes go to the
restricted child-safety queue, which only child-safety reviewers see."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from bank_helpers import pdq, random_pdq
from shieldwall.banks import add_entry
from shieldwall.cases import get_case, list_queue, transparency_report
from shieldwall.config import Settings
from shieldwall.errors import NotFound, NotPermitted
from shieldwall.exchange import add_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context
from shieldwall.matching import Matcher
from shieldwall.people import Actor, Role
from shieldwall.signals import Signal
from shieldwall.store import Database, JobRecord, utcnow

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
CHILD_SAFETY = Actor("user:cs", frozenset({Role.CHILD_SAFETY_REVIEWER}))
MD5 = "c3" * 16


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, cases_block_bank="removed")


def _public_key() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.b64encode(raw).decode()


def _partner(db: Database, *, auto_remove: bool, bank_kind: str = "block") -> None:
    add_exchange(
        db,
        "partner",
        "shieldwall",
        bank="from-partner",
        settings={
            # nothing listens there: the sync's fetch fails, the cases are opened all the same
            "base_url": "http://127.0.0.1:9",
            "bank": "shared",
            "public_key": _public_key(),
            "api_key": "k",
            "auto_remove": auto_remove,
        },
        bank_kind=bank_kind,
        schedule=False,
    )


def _match(db: Database, settings: Settings, bank: str, content_id: str, signal: Signal) -> None:
    add_entry(db, bank, [signal], external_ids=[f"x:{content_id}"])
    assert Matcher(db, settings=settings).match(content_id, [signal]).matched


def _cases(db: Database, actor: Actor, queue: str) -> dict[str, str]:
    """content id -> state, of the match cases in ``queue`` (open and decided)."""
    out: dict[str, str] = {}
    for state in (None, "decided"):
        for case in list_queue(db, actor, queue, state=state):
            if case.kind == "match":
                out[case.content_ids[0]] = case.state
    return out


@pytest.mark.parametrize("auto_remove", [False, True])
def test_a_partners_auto_remove_decides_who_removes_its_exact_matches(
    db: Database, settings: Settings, auto_remove: bool
) -> None:
    _partner(db, auto_remove=auto_remove)
    _match(db, settings, "from-partner", "exact", Signal("md5", MD5))
    _match(db, settings, "from-partner", "near", pdq(random_pdq(7)))
    report = sync_exchange(db, "partner", context=loopback_context(), settings=settings)
    assert report.cases_opened == 2
    cases = _cases(db, REVIEWER, "adult")
    # a near (PDQ) match always waits for a person; an exact one only when the partner is
    # not trusted for automated removal
    assert cases == {"exact": "decided" if auto_remove else "open", "near": "open"}
    decided = [c for c in list_queue(db, REVIEWER, "adult", state="decided") if c.kind == "match"]
    if auto_remove:
        assert [(c.automated, c.action, c.decided_by) for c in decided] == [
            (True, "remove", "system")
        ]
        start, end = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
        counts = transparency_report(db, REVIEWER, start=start, end=end)["decisions"]
        assert (counts["automated_decisions"], counts["automated_detection"]) == (1, 1)
    else:
        assert decided == []
    # the cursor moved: a second sync opens nothing again
    again = sync_exchange(db, "partner", context=loopback_context(), settings=settings)
    assert again.cases_opened == 0


@pytest.mark.parametrize("bank_kind", ["block", "review"])
def test_auto_remove_never_acts_on_a_review_bank_nor_when_exact_copies_wait(
    db: Database, settings: Settings, bank_kind: str
) -> None:
    _partner(db, auto_remove=True, bank_kind=bank_kind)
    if bank_kind == "block":  # the bank's own exact copies wait for a person: so do these
        settings = settings.model_copy(update={"cases_auto_remove_exact_copies": False})
    _match(db, settings, "from-partner", "exact", Signal("md5", MD5))
    sync_exchange(db, "partner", context=loopback_context(), settings=settings)
    assert _cases(db, REVIEWER, "adult") == {"exact": "open"}


def test_ncmec_matches_go_to_the_restricted_queue(db: Database, settings: Settings) -> None:
    add_exchange(
        db,
        "ncmec",
        "ncmec",
        settings={"base_url": "http://127.0.0.1:9", "username": "u", "password": "p"},
        schedule=False,
    )
    _match(db, settings, "ncmec", "minor-1", Signal("md5", MD5))
    report = sync_exchange(db, "ncmec", context=loopback_context(), settings=settings)
    assert report.cases_opened == 1
    # an exact match on NCMEC's hashes is never removed by the system: a person decides
    assert _cases(db, CHILD_SAFETY, "restricted") == {"minor-1": "open"}
    assert "minor-1" not in _cases(db, REVIEWER, "adult")
    with pytest.raises(NotPermitted):
        list_queue(db, REVIEWER, "restricted")
    (case,) = [c for c in list_queue(db, CHILD_SAFETY, "restricted") if c.kind == "match"]
    with pytest.raises(NotFound):
        get_case(db, REVIEWER, case.id)
    assert get_case(db, CHILD_SAFETY, case.id).queue == "restricted"


def test_the_worker_opens_the_cases_within_its_interval_not_at_the_next_sync(
    db: Database, settings: Settings
) -> None:
    from shieldwall.exchange.jobs import CASES_JOB
    from shieldwall.jobs import JobState, get_job
    from shieldwall.worker import default_worker

    worker = default_worker(db, settings=settings)
    assert CASES_JOB not in worker.schedule()  # no exchange feeds a bank: no chain
    _partner(db, auto_remove=False)  # its hourly sync is not scheduled here (schedule=False)
    _match(db, settings, "from-partner", "post-7", pdq(random_pdq(7)))
    assert _cases(db, REVIEWER, "adult") == {}
    queued = worker.schedule()
    assert CASES_JOB in queued
    job = worker.run_once()
    assert job is not None and job.kind == CASES_JOB
    assert _cases(db, REVIEWER, "adult") == {"post-7": "open"}
    assert get_job(db, job.id).state is JobState.DONE
    # the chain goes on: its next run waits for the interval
    after = worker.schedule()
    assert CASES_JOB not in after  # one waits already
    assert worker.run_once() is None  # not due yet
    _match(db, settings, "from-partner", "post-8", pdq(random_pdq(8)))
    with db.transaction() as session:  # the interval has passed
        waiting = session.scalars(
            select(JobRecord).where(JobRecord.kind == CASES_JOB, JobRecord.state == "queued")
        ).one()
        assert waiting.run_after > utcnow() + timedelta(seconds=30)
        waiting.run_after = utcnow()
    again = worker.run_once()
    assert again is not None and again.kind == CASES_JOB
    assert _cases(db, REVIEWER, "adult") == {"post-7": "open", "post-8": "open"}
