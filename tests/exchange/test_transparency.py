"""Statements of reasons to the EU Transparency Database, against its fake on loopback: in
batches, with the puid so that a retry never duplicates (a 422 for an existing puid counts as
done), as queued jobs with retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import fake_tdb
from case_helpers import valid_notice
from fake_tdb import FakeTDB
from shieldwall.cases import decide_case, submit_notice, tdb_statement
from shieldwall.config import Settings
from shieldwall.errors import ExchangeRefused
from shieldwall.exchange import (
    SYNC_JOB,
    TDB_JOB,
    queue_transparency,
    submit_statements,
    transparency_states,
)
from shieldwall.exchange.contract import loopback_context
from shieldwall.jobs import JobState, list_jobs
from shieldwall.people import Actor, Role
from shieldwall.store import Database, utcnow
from shieldwall.store.models import CaseItem, Notice
from shieldwall.worker import default_worker

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))


@pytest.fixture
def fake() -> Iterator[FakeTDB]:
    fake = fake_tdb.serve()
    assert fake.server is not None
    with fake.server:
        yield fake


def _settings(tmp_path: Path, fake: FakeTDB, token: str = fake_tdb.TOKEN) -> Settings:
    return Settings(
        data_dir=tmp_path,
        tdb_url=fake.url(),
        tdb_token=token,
        outbound_allowed_networks=["127.0.0.0/8"],
        tdb_interval_seconds=900,
    )


def _decided(db: Database, settings: Settings, action: str, reason: str = "NCII.") -> int:
    receipt = submit_notice(db, settings, valid_notice())
    decide_case(
        db, settings, REVIEWER, receipt.case_id, action=action, ground="terms", reason=reason
    )
    return receipt.case_id


def _statement(db: Database, settings: Settings, case_id: int) -> dict[str, object]:
    with db.session() as session:
        case = session.get(CaseItem, case_id)
        assert case is not None
        notice = session.get(Notice, case.notice_id)
        return tdb_statement(case, notice, settings)


def test_batches_with_puids_an_existing_one_counts_as_done(
    db: Database, fake: FakeTDB, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, fake)
    first = _decided(db, settings, "remove")
    second = _decided(db, settings, "label")
    refused = _decided(db, settings, "remove", reason="REFUSE this one.")
    kept = _decided(db, settings, "no_action")  # restricted nothing: no statement
    # an earlier run got the first one in before it crashed
    earlier = _statement(db, settings, first)
    fake.statements[str(earlier["puid"])] = dict(earlier)
    report = submit_statements(db, settings, context=loopback_context())
    assert (report.submitted, report.existing, report.failed) == (1, 1, 1)
    assert "decision_facts" in report.errors[0]
    assert transparency_states(db, [first, second, refused, kept]) == {
        first: "existing",
        second: "submitted",
        refused: "failed",
    }
    assert len(fake.statements) == 2  # never a duplicate
    assert "Alex" not in str(fake.statements)  # no personal data
    calls = len(fake.requests)
    again = submit_statements(db, settings, context=loopback_context())
    assert (again.submitted, again.existing, again.failed) == (0, 0, 0)
    assert len(fake.requests) == calls  # nothing left to send


def test_a_whole_batch_goes_in_one_request(db: Database, fake: FakeTDB, tmp_path: Path) -> None:
    settings = _settings(tmp_path, fake)
    cases = [_decided(db, settings, "remove") for _ in range(3)]
    report = submit_statements(db, settings, context=loopback_context(), batch_size=2)
    assert report.submitted == 3
    assert fake.requests == ["/api/v1/statements", "/api/v1/statements"]
    assert set(transparency_states(db, cases).values()) == {"submitted"}


def test_a_refused_token_records_nothing(db: Database, fake: FakeTDB, tmp_path: Path) -> None:
    settings = _settings(tmp_path, fake, token="wrong")
    case = _decided(db, settings, "remove")
    with pytest.raises(ExchangeRefused, match="401"):
        submit_statements(db, settings, context=loopback_context())
    assert transparency_states(db, [case]) == {}


def test_submissions_run_as_queued_jobs_on_a_schedule(
    db: Database, fake: FakeTDB, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, fake)
    case = _decided(db, settings, "remove")
    assert queue_transparency(db, settings) is not None
    assert queue_transparency(db, settings) is None  # one waits already
    worker = default_worker(db, settings=settings, kinds=[TDB_JOB])
    started = utcnow()
    assert worker.run_once() is not None
    assert transparency_states(db, [case]) == {case: "submitted"}
    jobs = list_jobs(db, kind=TDB_JOB)
    assert [j.state for j in jobs] == [JobState.DONE, JobState.QUEUED]
    assert jobs[1].run_after >= started + timedelta(seconds=900)


def test_the_report_counts_the_statements_owed_and_where_they_stand(
    db: Database, fake: FakeTDB, tmp_path: Path
) -> None:
    from shieldwall.cases import transparency_report

    settings = _settings(tmp_path, fake)
    _decided(db, settings, "remove")
    _decided(db, settings, "remove", reason="REFUSE this one.")
    _decided(db, settings, "no_action")
    start = utcnow() - timedelta(hours=1)
    report = transparency_report(db, REVIEWER, start=start, end=utcnow() + timedelta(hours=1))
    assert report["transparency_database"] == {
        "statements_owed": 2,
        "submitted": 0,
        "existing": 0,
        "failed": 0,
        "not_submitted": 2,
    }
    submit_statements(db, settings, context=loopback_context())
    report = transparency_report(db, REVIEWER, start=start, end=utcnow() + timedelta(hours=1))
    assert report["transparency_database"] == {
        "statements_owed": 2,
        "submitted": 1,
        "existing": 0,
        "failed": 1,
        "not_submitted": 0,
    }


def test_the_worker_starts_the_submissions_by_itself_when_tdb_is_configured(
    db: Database, fake: FakeTDB, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, fake)
    case = _decided(db, settings, "remove")
    worker = default_worker(db, settings=settings)
    queued = worker.schedule()
    assert list(queued) == [TDB_JOB]
    assert worker.schedule() == {}  # one waits already: never a second chain
    assert [j.state for j in list_jobs(db, kind=TDB_JOB)] == [JobState.QUEUED]
    default_worker(db, settings=settings, kinds=[TDB_JOB]).run_once()
    assert transparency_states(db, [case]) == {case: "submitted"}
    # a worker claiming other kinds only starts nothing of the TDB's
    assert default_worker(db, settings=settings, kinds=[SYNC_JOB]).schedule() == {}


def test_the_worker_loop_schedules_when_it_starts_and_only_with_tdb(
    db: Database, fake: FakeTDB, tmp_path: Path
) -> None:
    stop = threading.Event()
    stop.set()  # the loop only starts: its schedules run, no job does
    default_worker(db, settings=Settings(data_dir=tmp_path)).run(stop)
    assert list_jobs(db, kind=TDB_JOB) == []  # no TDB configured: nothing scheduled
    default_worker(db, settings=_settings(tmp_path, fake)).run(stop)
    assert [j.state for j in list_jobs(db, kind=TDB_JOB)] == [JobState.QUEUED]
