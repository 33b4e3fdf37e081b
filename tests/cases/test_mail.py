"""Telling the reporter by email through a local SMTP server: receipt, decision, appeal."""

from __future__ import annotations

from pathlib import Path

from case_helpers import REPORTER, valid_notice
from shieldwall.cases import EMAIL_JOB, decide_appeal, decide_case, file_appeal, submit_notice
from shieldwall.config import Settings
from shieldwall.jobs import Worker, list_jobs
from shieldwall.people import Actor, Role
from shieldwall.store import Database
from shieldwall.worker import builtin_handlers
from smtp_helpers import smtp_server

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
SENIOR = Actor("user:senior", frozenset({Role.SENIOR_REVIEWER}))


def _drain(db: Database, settings: Settings) -> None:
    worker = Worker(db, settings=settings, handlers=builtin_handlers(settings))
    while worker.run_once() is not None:
        pass


def test_the_reporter_is_told_by_email(db: Database, tmp_path: Path) -> None:
    with smtp_server() as box:
        settings = Settings(data_dir=tmp_path, smtp_host=box.host, smtp_port=box.port)
        receipt = submit_notice(db, settings, valid_notice())
        decide_case(
            db, settings, REVIEWER, receipt.case_id, action="no_action", ground="terms", reason="-"
        )
        appeal = file_appeal(
            db, reason="Please.", tracking_number=receipt.tracking_number, pin=receipt.pin
        )
        decide_appeal(db, settings, SENIOR, appeal.id, uphold=False, reason="Right.")
        _drain(db, settings)
        assert [m["To"] for m in box.messages] == [REPORTER["reporter_email"]] * 3
        subjects = [str(m["Subject"]) for m in box.messages]
        assert all(receipt.tracking_number in s for s in subjects)
        assert "received" in subjects[0] and "decided" in subjects[1]
        assert "appeal" in subjects[2]
        for m in box.messages:
            text = m.as_string()
            assert receipt.pin not in text  # the PIN is never mailed
    jobs = list_jobs(db, kind=EMAIL_JOB)
    assert all(set(j.payload) == {"notice_id", "event", "note"} for j in jobs)
    assert all(REPORTER["reporter_email"] not in str(j.payload) for j in jobs)


def test_no_smtp_no_email_jobs(db: Database, tmp_path: Path) -> None:
    submit_notice(db, Settings(data_dir=tmp_path), valid_notice())
    assert list_jobs(db, kind=EMAIL_JOB) == []
