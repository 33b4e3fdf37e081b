"""NCMEC hash sharing against its fake on loopback: time windows read page by page (a window
counts as read only at its last page), tombstones withdraw their entry only, MD5 and PDQ
banked with the other fingerprints kept and counted, affirmative and negative feedback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import fake_ncmec
from case_helpers import valid_notice
from fake_ncmec import FakeNCMEC
from fake_server import Reply
from shieldwall.banks import get_bank, get_entry
from shieldwall.cases import decide_case, submit_notice
from shieldwall.config import Settings
from shieldwall.exchange import add_exchange, get_exchange, get_exchange_kind, sync_exchange
from shieldwall.exchange.contract import loopback_context, pdq_value
from shieldwall.matching import Matcher
from shieldwall.people import Actor, Role
from shieldwall.signals import Signal
from shieldwall.store import BankSignal, Database

REVIEWER = Actor("user:rev", frozenset({Role.REVIEWER}))
MD5 = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
SHA1 = "b1" * 20


@pytest.fixture
def fake() -> Iterator[FakeNCMEC]:
    fake = fake_ncmec.serve()
    assert fake.server is not None
    with fake.server:
        yield fake


def _sync(db: Database, fake: FakeNCMEC, max_pages: int | None = None) -> None:
    context = loopback_context(fake=fake)
    report = sync_exchange(db, "ncmec", context=context, force=True, max_pages=max_pages)
    assert report.ok, report.error


def _entry(db: Database, value: str) -> tuple[bool, int]:
    with db.session() as session:
        row = session.scalar(select(BankSignal).where(BankSignal.value == value))
        assert row is not None
        return row.live, row.entry_id


def test_a_window_is_read_page_by_page_and_resumed_from_its_next_link(
    db: Database, fake: FakeNCMEC
) -> None:
    add_exchange(db, "ncmec", "ncmec", settings=fake.settings(), schedule=False)
    for i in range(5):
        fake.put_entry(f"img{i}", {"pdq": pdq_value(i)})
    _sync(db, fake, max_pages=1)  # stopped after one page (as a crash would)
    checkpoint = get_exchange(db, "ncmec").checkpoint
    assert checkpoint is not None and "start=3" in checkpoint["next"]
    assert get_bank(db, "ncmec").live_signals == 2
    _sync(db, fake)
    assert get_bank(db, "ncmec").live_signals == 5
    assert [q.get("start") for q in fake.queries] == [None, ["3"], ["5"]]  # resumed, not redone
    window_end = fake.queries[0]["to"][0]
    assert get_exchange(db, "ncmec").checkpoint == {"from": fake_ncmec._parse_time(window_end)}
    fake.put_entry("img9", {"md5": MD5})
    _sync(db, fake)
    assert fake.queries[-1]["from"] == [window_end]  # the next window starts where it ended
    assert get_bank(db, "ncmec").live_signals == 6


def test_fingerprints_we_match_are_banked_and_the_others_kept_and_counted(
    db: Database, fake: FakeNCMEC
) -> None:
    add_exchange(db, "ncmec", "ncmec", settings=fake.settings(), schedule=False)
    fake.put_entry("image1", {"md5": MD5, "sha1": SHA1, "pdq": pdq_value(1)})
    fake.put_entry("image2", {"sha1": "c1" * 20, "pdna": "d1" * 72})
    _sync(db, fake)
    live, entry_id = _entry(db, MD5)
    entry = get_entry(db, entry_id)
    assert live and {s.type for s in entry.signals} == {"md5", "pdq"}
    assert entry.external_ids == {"ncmec:42/image1": "active"}
    assert f"SHA1 {SHA1}" in entry.note and "classification A1" in entry.note
    info = get_exchange(db, "ncmec")
    assert (info.added, info.skipped) == (1, 1)
    assert info.skipped_types == {"sha1": 2, "pdna": 1}


def test_a_tombstone_withdraws_its_entry_only(db: Database, fake: FakeNCMEC) -> None:
    add_exchange(db, "ncmec", "ncmec", settings=fake.settings(), schedule=False)
    fake.put_entry("image1", {"md5": MD5})
    fake.put_entry("image2", {"md5": MD5})  # another entry holding the same hash
    fake.put_entry("video1", {"md5": "e1" * 16}, kind="video")
    _sync(db, fake)
    fake.delete("image1")
    fake.delete("video1")
    _sync(db, fake)
    live, entry_id = _entry(db, MD5)
    assert live  # image2 still holds it
    assert get_entry(db, entry_id).external_ids == {
        "ncmec:42/image1": "withdrawn",
        "ncmec:42/image2": "active",
    }
    assert _entry(db, "e1" * 16)[0] is False  # deletedVideo
    assert get_exchange(db, "ncmec").withdrawn == 2


def test_only_the_chosen_members_are_read(db: Database, fake: FakeNCMEC) -> None:
    add_exchange(
        db, "ncmec", "ncmec", settings={**fake.settings(), "only_members": [7]}, schedule=False
    )
    fake.put_entry("image1", {"md5": MD5})  # member 42
    _sync(db, fake)
    assert get_bank(db, "ncmec").live_signals == 0


def test_an_answer_that_is_not_xml_is_a_clear_error(db: Database, fake: FakeNCMEC) -> None:
    add_exchange(db, "ncmec", "ncmec", settings=fake.settings(), schedule=False)
    fake.failures.append(Reply(200, b"<html>maintenance"))
    report = sync_exchange(db, "ncmec", context=loopback_context(fake=fake))
    assert report.error is not None and "not XML" in report.error
    assert get_exchange(db, "ncmec").last_error == report.error


def test_feedback_is_affirmative_on_removal_and_negative_when_not_confirmed(
    db: Database, fake: FakeNCMEC, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, cases_block_bank="removed")
    add_exchange(db, "ncmec", "ncmec", settings=fake.settings(), schedule=False)
    fake.put_entry("image1", {"md5": MD5, "sha1": SHA1})
    fake.put_entry("image2", {"pdq": pdq_value(2)})
    _sync(db, fake)
    matcher = Matcher(db, settings=settings)
    assert matcher.match("content-1", [Signal("md5", MD5)]).matched
    assert matcher.match("content-2", [Signal("pdq", pdq_value(2), 90)]).matched
    _sync(db, fake)
    assert fake.feedbacks == []  # NCMEC takes no "matched, pending review"
    first = submit_notice(db, settings, valid_notice(content_ids=["content-1"]))
    second = submit_notice(db, settings, valid_notice(content_ids=["content-2"]))
    decide_case(
        db,
        settings,
        REVIEWER,
        first.case_id,
        action="remove",
        ground="law",
        reason="Known CSAM.",
        legal_ground="18 U.S.C. 2258A",
    )
    decide_case(
        db,
        settings,
        REVIEWER,
        second.case_id,
        action="no_action",
        ground="terms",
        reason="Not what the hash says.",
    )
    _sync(db, fake)
    assert sorted(fake.feedbacks) == [
        ("42/image1", "MD5", "affirmative", None),
        ("42/image2", "PDQ", "negative", fake_ncmec.REASON),
    ]
    assert get_exchange_kind("ncmec").restricted
