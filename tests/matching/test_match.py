"""Matching signals against banks: thresholds, bank and entry states, stored matches."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bank_helpers import flip_bits, pdq, random_pdq
from shieldwall.banks import (
    BankKind,
    add_entry,
    disable_entry,
    enable_entry,
    set_bank_enabled,
    set_bank_threshold,
    withdraw,
)
from shieldwall.config import Settings
from shieldwall.matching import Matcher
from shieldwall.signals.base import Signal
from shieldwall.store import Database, MatchRecord, utcnow


def test_near_copy_matches_and_is_stored(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    entry = add_entry(banks, "ncii", [pdq(value)], external_ids=["case-1"])
    matcher = Matcher(banks, settings=settings)
    outcome = matcher.match("upload-1", [pdq(flip_bits(value, 20))])
    assert outcome.matched
    [m] = outcome.matches
    assert (m.bank, m.bank_kind, m.entry_id, m.signal_type, m.distance) == (
        "ncii",
        BankKind.BLOCK,
        entry.id,
        "pdq",
        20,
    )
    with banks.session() as session:
        [record] = session.scalars(select(MatchRecord)).all()
    assert (record.content_id, record.entry_id, record.distance, record.source) == (
        "upload-1",
        entry.id,
        20,
        "upload",
    )
    assert not matcher.match("upload-2", [pdq(flip_bits(value, 32))]).matched
    assert not matcher.match("upload-3", [pdq(random_pdq(2))]).matched


def test_per_bank_thresholds(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_entry(banks, "suspect", [pdq(value)])  # threshold 10
    matcher = Matcher(banks, settings=settings)
    assert matcher.match("a", [pdq(flip_bits(value, 10))]).matched
    assert not matcher.match("b", [pdq(flip_bits(value, 11))]).matched
    set_bank_threshold(banks, "suspect", "pdq", 12)
    assert matcher.match("c", [pdq(flip_bits(value, 11))]).matched


def test_exact_signals(banks: Database, settings: Settings) -> None:
    add_entry(banks, "ncii", [Signal("md5", "a" * 32)])
    matcher = Matcher(banks, settings=settings)
    assert matcher.match("a", [Signal("md5", "a" * 32)]).matches[0].signal_type == "md5"
    assert not matcher.match("b", [Signal("md5", "b" * 32)]).matched


def test_low_quality_query_never_matches(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    assert not Matcher(banks, settings=settings).match("q", [pdq(value, quality=10)]).matched


def test_disabled_bank_withdrawn_and_disabled_entries(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    entry = add_entry(banks, "ncii", [pdq(value)], external_ids=["case-1"])
    matcher = Matcher(banks, settings=settings)
    query = [pdq(value)]
    set_bank_enabled(banks, "ncii", False)
    assert not matcher.match("a", query).matched
    set_bank_enabled(banks, "ncii", True)
    disable_entry(banks, entry.id, utcnow() + timedelta(hours=1))
    assert not matcher.match("b", query).matched
    disable_entry(banks, entry.id, utcnow() - timedelta(seconds=1))  # the time has passed
    assert matcher.match("c", query).matched
    enable_entry(banks, entry.id)
    withdraw(banks, "case-1")
    assert not matcher.match("d", query).matched


def test_matching_the_same_content_twice_stores_one_match(
    banks: Database, settings: Settings
) -> None:
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    matcher = Matcher(banks, settings=settings)
    assert matcher.match("a", [pdq(value)]).matched
    assert matcher.match("a", [pdq(value)]).matched
    with banks.session() as session:
        assert len(session.scalars(select(MatchRecord)).all()) == 1


def test_find_stores_nothing(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    assert Matcher(banks, settings=settings).match("a", [pdq(value)], record=False).matched
    with banks.session() as session:
        assert session.scalars(select(MatchRecord)).all() == []


def test_concurrent_matchers_store_one_match(
    banks: Database, database_url: str, settings: Settings
) -> None:
    import threading

    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    matchers = [Matcher(Database(database_url), settings=settings) for _ in range(4)]
    barrier = threading.Barrier(len(matchers))
    results: list[bool] = []

    def work(matcher: Matcher) -> None:
        barrier.wait()
        results.append(matcher.match("same-upload", [pdq(value)]).matched)

    threads = [threading.Thread(target=work, args=(m,)) for m in matchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4
    with banks.session() as session:
        assert len(session.scalars(select(MatchRecord)).all()) == 1
    for m in matchers:
        m.db.dispose()
