"""A victim case shared through StopNCII, against its fake on loopback: with consent the
worker's job submits exactly the case's PDQ and MD5 hashes (nothing else: no image bytes, no
variants, no case number), a withdrawal reaches StopNCII, a 5xx is retried, and without consent
or without a StopNCII exchange nothing is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

import fake_stopncii
from fake_server import Reply
from fake_stopncii import FakeStopNCII
from shieldwall.cases.victims import (
    SHARE_JOB,
    WITHDRAW_JOB,
    VictimReceipt,
    case_status,
    file_case,
    withdraw_items,
)
from shieldwall.config import Settings
from shieldwall.exchange import add_exchange
from shieldwall.exchange.contract import pdq_value
from shieldwall.jobs import JobState, list_jobs
from shieldwall.store import Database, utcnow
from shieldwall.store.models import JobRecord, VictimShare
from shieldwall.worker import default_worker

MD5_1, MD5_2 = "a" * 32, "b" * 32
SHA256 = "c" * 64
RECORD_KEYS = {"lastModtimestamp", "signalType", "hashValue", "CSPFeedbacks"}


@pytest.fixture
def fake() -> Iterator[FakeStopNCII]:
    fake = fake_stopncii.serve()
    assert fake.server is not None
    with fake.server:
        yield fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, outbound_allowed_networks=["127.0.0.0/8", "::1/128"])


def _submission(*, stopncii: bool) -> dict[str, Any]:
    return {
        "consent": {"platform": True, "stopncii": stopncii},
        "declarations": {"depicted": True, "adult": True},
        "items": [
            {
                "kind": "photo",
                "signals": [
                    {"type": "pdq", "value": pdq_value(1), "quality": 90},
                    {"type": "md5", "value": MD5_1},
                    {"type": "sha256", "value": SHA256},
                ],
                "variants": [
                    {"type": "pdq", "value": pdq_value(9), "quality": 80, "variant": "crop-top-10"}
                ],
            },
            {
                "kind": "photo",
                "signals": [
                    {"type": "pdq", "value": pdq_value(2), "quality": 90},
                    {"type": "md5", "value": MD5_2},
                ],
            },
        ],
    }


def _run(db: Database, settings: Settings) -> int:
    """Run every job of the sharing kinds that is due; returns how many ran."""
    worker = default_worker(db, settings=settings, kinds=[SHARE_JOB, WITHDRAW_JOB])
    ran = 0
    while worker.run_once() is not None:
        ran += 1
    return ran


def _sent(fake: FakeStopNCII) -> list[tuple[str, str]]:
    return [(r["signalType"], r["hashValue"]) for b in fake.submitted for r in b["hashRecords"]]


def _file(db: Database, settings: Settings, *, stopncii: bool = True) -> VictimReceipt:
    return file_case(db, settings, _submission(stopncii=stopncii))


def test_consent_shares_exactly_the_hashes_and_withdrawal_reaches_stopncii(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    receipt = _file(db, settings)
    assert receipt.stopncii == "pending"
    assert fake.submitted == []  # nothing is sent while the case is filed
    assert _run(db, settings) == 1
    assert sorted(_sent(fake)) == sorted(
        [
            ("ImagePDQ", pdq_value(1)),
            ("VideoMD5", MD5_1),
            ("ImagePDQ", pdq_value(2)),
            ("VideoMD5", MD5_2),
        ]
    )
    # Hashes only: no other field, no variant, no SHA-256, no case number, no image bytes.
    [body] = fake.submitted_bodies
    data = json.loads(body)
    assert set(data) == {"count", "hashRecords"} and data["count"] == 4
    assert all(set(r) == RECORD_KEYS and r["CSPFeedbacks"] == [] for r in data["hashRecords"])
    assert pdq_value(9).encode() not in body and SHA256.encode() not in body
    assert receipt.case_number.encode() not in body
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "shared"
    assert (status.stopncii_shared, status.stopncii_not_sent) == (4, 1)
    assert status.stopncii_shared_at is not None and status.stopncii_note is None
    with db.session() as session:
        shared = session.scalars(select(VictimShare).where(VictimShare.state == "shared")).all()
        assert {s.exchange_name for s in shared} == {"stopncii"}

    status = withdraw_items(db, receipt.case_number, receipt.pin, item=1, settings=settings)
    assert status.stopncii == "withdrawal_pending"
    assert fake.withdrawals() == []
    assert _run(db, settings) == 1
    assert sorted(fake.withdrawals()) == sorted([pdq_value(1), MD5_1])
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "shared"  # item 2 still is
    assert (status.stopncii_shared, status.stopncii_withdrawn) == (2, 2)

    withdraw_items(db, receipt.case_number, receipt.pin, settings=settings)
    assert _run(db, settings) == 1
    assert sorted(fake.withdrawals()) == sorted([pdq_value(1), MD5_1, pdq_value(2), MD5_2])
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert (status.status, status.stopncii) == ("withdrawn", "withdrawn")
    assert (status.stopncii_shared, status.stopncii_withdrawn) == (0, 4)
    assert len(fake.submitted) == 1  # nothing was sent again


def _due_now(db: Database) -> None:
    with db.transaction() as session:
        session.execute(
            update(JobRecord)
            .where(JobRecord.state == JobState.RETRY.value)
            .values(run_after=utcnow())
        )


def test_a_5xx_is_retried_with_backoff_then_shared(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    receipt = _file(db, settings)
    fake.submit_failures.append(Reply(503, b'{"message": "busy"}'))
    assert _run(db, settings) == 1
    [job] = list_jobs(db, kind=SHARE_JOB)
    assert job.state is JobState.RETRY and job.run_after > utcnow()
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "pending" and status.stopncii_note is not None
    assert "503" in status.stopncii_note
    assert _sent(fake) == []
    _due_now(db)
    assert _run(db, settings) == 1
    assert [j.state for j in list_jobs(db, kind=SHARE_JOB)] == [JobState.DONE]
    assert len(_sent(fake)) == 4
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert (status.stopncii, status.stopncii_note) == ("shared", None)


def test_a_failed_withdrawal_is_retried(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    receipt = _file(db, settings)
    _run(db, settings)
    withdraw_items(db, receipt.case_number, receipt.pin, settings=settings)
    fake.feedback_failures.append(Reply(500, b"{}"))
    assert _run(db, settings) == 1
    assert fake.withdrawals() == []
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "withdrawal_pending" and status.stopncii_withdrawal_pending == 4
    _due_now(db)
    assert _run(db, settings) == 1
    assert len(fake.withdrawals()) == 4
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "withdrawn"


def test_without_consent_nothing_is_sent(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    receipt = _file(db, settings, stopncii=False)
    assert receipt.stopncii == "not_requested"
    assert list_jobs(db, kind=SHARE_JOB) == []
    assert _run(db, settings) == 0
    withdraw_items(db, receipt.case_number, receipt.pin, settings=settings)
    assert _run(db, settings) == 0
    assert fake.submitted == [] and fake.feedbacks == []
    with db.session() as session:
        assert session.scalars(select(VictimShare)).all() == []


def test_withdrawn_before_it_was_sent_nothing_is_sent(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    receipt = _file(db, settings)
    status = withdraw_items(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "cancelled"
    assert _run(db, settings) == 1  # the share job finds nothing pending
    assert fake.submitted == [] and fake.feedbacks == []


def test_without_a_stopncii_exchange_the_consent_waits_with_a_reason(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    receipt = _file(db, settings)
    assert _run(db, settings) == 1
    [job] = list_jobs(db, kind=SHARE_JOB)
    assert job.state is JobState.RETRY
    status = case_status(db, receipt.case_number, receipt.pin, settings=settings)
    assert status.stopncii == "pending"
    assert status.stopncii_note is not None
    assert "no StopNCII exchange is configured" in status.stopncii_note
    # configured since, the retry shares them
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    _due_now(db)
    assert _run(db, settings) == 1
    assert len(_sent(fake)) == 4


def test_the_setting_chooses_among_several_stopncii_exchanges(
    db: Database, fake: FakeStopNCII, tmp_path: Path
) -> None:
    add_exchange(db, "a", "stopncii", settings=fake.settings(), schedule=False)
    add_exchange(db, "b", "stopncii", settings=fake.settings(), schedule=False)
    several = Settings(data_dir=tmp_path, outbound_allowed_networks=["127.0.0.0/8"])
    receipt = _file(db, several)
    _run(db, several)
    status = case_status(db, receipt.case_number, receipt.pin, settings=several)
    assert status.stopncii_note is not None and "several StopNCII exchanges" in status.stopncii_note
    named = several.model_copy(update={"protect_stopncii_exchange": "b"})
    _due_now(db)
    _run(db, named)
    with db.session() as session:
        names = set(session.scalars(select(VictimShare.exchange_name)))
    assert names == {"b", None}  # the SHA-256 was not sent anywhere
