"""StopNCII against its fake on loopback: each record replaces the hash's earlier state, a
withdrawal removes only this exchange's cases, signal types map through the capabilities,
keys come from files, and feedback follows matches and decisions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import fake_stopncii
from case_helpers import valid_notice
from fake_server import Reply
from fake_stopncii import FakeStopNCII
from shieldwall.banks import add_entry, get_bank, get_entry
from shieldwall.cases import decide_case, submit_notice
from shieldwall.config import Settings
from shieldwall.exchange import (
    Feedback,
    RemoteSignal,
    add_exchange,
    get_exchange,
    submit_hashes,
    sync_exchange,
)
from shieldwall.exchange.contract import loopback_context, pdq_value
from shieldwall.matching import Matcher
from shieldwall.people import Actor, Role
from shieldwall.signals import Signal
from shieldwall.store import BankSignal, Database

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeStopNCII]:
    fake = fake_stopncii.serve()
    assert fake.server is not None
    with fake.server:
        yield fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, cases_block_bank="removed")


def _pdq(seed: int) -> RemoteSignal:
    return RemoteSignal("ImagePDQ", pdq_value(seed))


def _sync(db: Database, name: str = "stopncii") -> None:
    report = sync_exchange(db, name, context=loopback_context(), force=True)
    assert report.ok, report.error


def _entry_of(db: Database, value: str) -> tuple[bool, dict[str, str]]:
    with db.session() as session:
        row = session.scalar(select(BankSignal).where(BankSignal.value == value))
        assert row is not None
        live, entry_id = row.live, row.entry_id
    return live, get_entry(db, entry_id).external_ids


def test_each_record_replaces_the_state_of_its_hash(db: Database, fake: FakeStopNCII) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    fake.put(_pdq(1), ("C1", "C2"))
    _sync(db)
    assert _entry_of(db, pdq_value(1)) == (
        True,
        {"stopncii:C1": "active", "stopncii:C2": "active"},
    )
    fake.put_record(_pdq(1), {"C1": "Withdrawn", "C2": "Active"}, "Active")
    _sync(db)
    assert _entry_of(db, pdq_value(1)) == (
        True,
        {"stopncii:C1": "withdrawn", "stopncii:C2": "active"},
    )
    fake.put(_pdq(1), ("C3",))  # a full snapshot: C2 is no longer among its cases
    _sync(db)
    live, held = _entry_of(db, pdq_value(1))
    assert live and {k for k, v in held.items() if v == "active"} == {"stopncii:C3"}
    assert get_exchange(db, "stopncii").added == 3


@pytest.mark.parametrize("status", ["Withdrawn", "Deleted"])
def test_a_withdrawal_removes_only_the_cases_this_exchange_holds(
    db: Database, fake: FakeStopNCII, status: str
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    shared, alone = _pdq(1), _pdq(2)
    fake.put(shared, ("C1",))
    fake.put(alone, ("C2",))
    _sync(db)
    # a reviewer's own case holds the same hash in this bank
    add_entry(db, "stopncii", [Signal("pdq", shared.value, 90)], external_ids=["local-1"])
    fake.withdraw(shared, status)
    fake.withdraw(alone, status)
    _sync(db)
    assert _entry_of(db, shared.value) == (
        True,
        {"stopncii:C1": "withdrawn", "local-1": "active"},
    )
    assert _entry_of(db, alone.value) == (False, {"stopncii:C2": "withdrawn"})
    assert get_exchange(db, "stopncii").withdrawn == 2
    fake.put(alone, ("C2",))  # re-activated at StopNCII: matches again
    _sync(db)
    assert _entry_of(db, alone.value)[0] is True


def test_types_map_through_the_capabilities_and_the_rest_are_counted(
    db: Database, fake: FakeStopNCII
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    fake.put(_pdq(1))
    fake.put(RemoteSignal("VideoMD5", MD5.upper()))
    fake.put(RemoteSignal("VideoTMK", "ff" * 64))
    fake.put(RemoteSignal("URL", "https://example.org/x"))
    _sync(db)
    with db.session() as session:
        stored = set(session.execute(select(BankSignal.type, BankSignal.value)).all())
    assert stored == {("pdq", pdq_value(1)), ("md5", MD5)}
    info = get_exchange(db, "stopncii")
    assert info.skipped == 2 and info.skipped_types == {"VideoTMK": 1, "URL": 1}


def test_a_malformed_record_fails_alone(db: Database, fake: FakeStopNCII) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    fake.put(_pdq(1))
    fake.put(RemoteSignal("ImagePDQ", "not-hex"))
    fake.put_malformed()
    fake.put(_pdq(2))
    report = sync_exchange(db, "stopncii", context=loopback_context())
    assert report.ok and report.added == 2 and report.failed == 2
    assert any("not-hex" in e or "hex" in e for e in report.record_errors), report.record_errors
    assert get_bank(db, "stopncii").live_signals == 2


def test_keys_are_read_from_files_and_a_refusal_is_recorded(
    db: Database, fake: FakeStopNCII, tmp_path: Path
) -> None:
    (tmp_path / "fetch").write_text(fake_stopncii.FETCH_KEY + "\n")
    (tmp_path / "sub").write_text(fake_stopncii.SUBSCRIPTION_KEY + "\n")
    (tmp_path / "wrong").write_text("nope\n")
    assert fake.server is not None
    base = {"base_url": fake.server.url("/v1"), "subscription_key_file": str(tmp_path / "sub")}
    add_exchange(
        db,
        "good",
        "stopncii",
        settings={**base, "fetch_key_file": str(tmp_path / "fetch")},
        schedule=False,
    )
    add_exchange(
        db,
        "bad",
        "stopncii",
        settings={**base, "fetch_key_file": str(tmp_path / "wrong")},
        schedule=False,
    )
    fake.put(_pdq(1))
    _sync(db, "good")
    assert get_bank(db, "good").live_signals == 1
    report = sync_exchange(db, "bad", context=loopback_context())
    assert report.error is not None and "refused our keys (401)" in report.error
    assert get_exchange(db, "bad").last_error == report.error
    assert get_exchange(db, "good").settings["fetch_key_file"] == str(tmp_path / "fetch")


def test_secrets_are_never_shown_back(db: Database, fake: FakeStopNCII) -> None:
    info = add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    assert info.settings["fetch_key"] == "********"
    assert fake_stopncii.FETCH_KEY not in repr(get_exchange(db, "stopncii"))


def test_feedback_follows_matches_and_decisions(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    removed, kept = _pdq(1), _pdq(2)
    fake.put(removed, ("C1",))
    fake.put(kept, ("C2",))
    _sync(db)
    matcher = Matcher(db, settings=settings)
    assert matcher.match("content-1", [Signal("pdq", removed.value, 90)]).matched
    assert matcher.match("content-2", [Signal("pdq", kept.value, 90)]).matched
    _sync(db)
    assert sorted(fake.feedback()) == sorted(
        [(removed.value, Feedback.MATCHED), (kept.value, Feedback.MATCHED)]
    )
    first = submit_notice(db, settings, valid_notice(content_ids=["content-1"]))
    second = submit_notice(db, settings, valid_notice(content_ids=["content-2"]))
    decide_case(
        db, settings, REVIEWER, first.case_id, action="remove", ground="terms", reason="NCII."
    )
    decide_case(
        db,
        settings,
        REVIEWER,
        second.case_id,
        action="no_action",
        ground="terms",
        reason="Not intimate imagery.",
    )
    fake.fail_next(503)  # the fetch fails: no feedback is sent either
    assert sync_exchange(db, "stopncii", context=loopback_context(), force=True).error
    _sync(db)
    assert sorted(fake.feedback()) == sorted(
        [
            (removed.value, Feedback.MATCHED),
            (kept.value, Feedback.MATCHED),
            (removed.value, Feedback.CONFIRMED),
            (kept.value, Feedback.REJECTED),
        ]
    )
    _sync(db)  # nothing owed twice
    assert len(fake.feedback()) == 4
    assert get_exchange(db, "stopncii").feedback == {"sent": 4}


def test_feedback_that_fails_stays_pending_and_is_sent_next_time(
    db: Database, fake: FakeStopNCII, settings: Settings
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    fake.put(_pdq(1))
    _sync(db)
    Matcher(db, settings=settings).match("content-1", [Signal("pdq", pdq_value(1), 90)])
    fake.feedback_failures.append(Reply(429, b"{}", {"Retry-After": "30"}))
    report = sync_exchange(db, "stopncii", context=loopback_context())
    assert report.ok and report.feedback_error is not None and "429" in report.feedback_error
    assert get_exchange(db, "stopncii").feedback == {"pending": 1}
    _sync(db)
    assert fake.feedback() == [(pdq_value(1), Feedback.MATCHED)]


def test_submission_sends_the_types_as_stopncii_spells_them(
    db: Database, fake: FakeStopNCII
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    sent = submit_hashes(
        db,
        "stopncii",
        [Signal("pdq", pdq_value(5), 90), Signal("md5", MD5)],
        context=loopback_context(),
    )
    assert sent == 2
    [batch] = fake.submitted
    assert [r["signalType"] for r in batch["hashRecords"]] == ["ImagePDQ", "VideoMD5"]
    _sync(db)  # and the exchange then serves them back
    assert get_bank(db, "stopncii").live_signals == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"count": 0}', "hashRecords is missing"),
        (b'{"hashRecords": [], "hasMoreRecords": true}', "without a nextPageToken"),
        (b'{"hashRecords": [], "hasMoreRecords": false}', "nextSetTimestamp is missing"),
    ],
)
def test_an_answer_it_cannot_read_is_a_clear_error(
    db: Database, fake: FakeStopNCII, body: bytes, message: str
) -> None:
    add_exchange(db, "stopncii", "stopncii", settings=fake.settings(), schedule=False)
    fake.failures.append(Reply(200, body))
    report = sync_exchange(db, "stopncii", context=loopback_context())
    assert report.error is not None and message in report.error
    assert get_exchange(db, "stopncii").checkpoint is None
