"""The ledger and the retroactive sweep: a new block signal finds the copies already hosted."""

from __future__ import annotations

from sqlalchemy import select

from bank_helpers import flip_bits, pdq, random_pdq
from shieldwall.banks import add_entry, withdraw
from shieldwall.config import Settings
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.signals.base import Signal
from shieldwall.store import Database, MatchRecord


def _hosted(db: Database, value: str) -> None:
    items = [(f"post-{i}", [pdq(random_pdq(1000 + i))]) for i in range(50)]
    items.append(("post-copy", [pdq(flip_bits(value, 12)), Signal("md5", "1" * 32)]))
    items.append(("post-exact", [Signal("md5", "2" * 32)]))
    items.append(("post-flat", [pdq(value, quality=5)]))  # below the floor: never matched
    assert add_to_ledger(db, items) == 53


def test_new_block_signal_finds_hosted_copies(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    _hosted(banks, value)
    assert sweep(banks, settings=settings).matches == {}  # nothing banked yet
    entry = add_entry(banks, "ncii", [pdq(value), Signal("md5", "2" * 32)], external_ids=["c"])
    outcome = sweep(banks, settings=settings)
    assert outcome.signals_checked == 2 and outcome.ledger_scanned == 51
    assert sorted(outcome.matches) == ["post-copy", "post-exact"]
    assert outcome.matches["post-copy"][0].distance == 12
    with banks.session() as session:
        records = session.scalars(select(MatchRecord).order_by(MatchRecord.content_id)).all()
    assert [(r.content_id, r.entry_id, r.source) for r in records] == [
        ("post-copy", entry.id, "sweep"),
        ("post-exact", entry.id, "sweep"),
    ]
    again = sweep(banks, settings=settings)
    assert again.signals_checked == 0 and again.matches == {}  # checkpoint moved on
    assert sorted(sweep(banks, settings=settings, full=True).matches) == sorted(outcome.matches)
    with banks.session() as session:
        assert len(session.scalars(select(MatchRecord)).all()) == 2  # never duplicated


def test_review_allow_and_withdrawn_signals_do_not_sweep(
    banks: Database, settings: Settings
) -> None:
    value = random_pdq(1)
    _hosted(banks, value)
    add_entry(banks, "suspect", [pdq(value)])  # review bank: not swept
    add_entry(banks, "ncii", [pdq(flip_bits(value, 3))], external_ids=["gone"])
    withdraw(banks, "gone")
    assert sweep(banks, settings=settings).matches == {}


def test_allow_bank_suppresses_in_sweeps(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    _hosted(banks, value)
    add_entry(banks, "memes", [pdq(flip_bits(value, 12))])
    add_entry(banks, "ncii", [pdq(value)])
    outcome = sweep(banks, settings=settings)
    assert outcome.matches == {} and outcome.suppressed == ["post-copy"]


def test_flooding_signal_is_quarantined_in_sweeps(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_to_ledger(banks, [(f"meme-{i}", [pdq(flip_bits(value, i))]) for i in range(10)])
    add_entry(banks, "ncii", [pdq(value)])
    outcome = sweep(banks, settings=settings)  # flood limit: 3 distinct contents
    assert len(outcome.matches) == 3 and len(outcome.quarantined) == 1


def test_ledger_replaces_signals_of_a_known_content(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_to_ledger(banks, [("post", [pdq(value)])])
    add_to_ledger(banks, [("post", [pdq(random_pdq(2))])])
    add_entry(banks, "ncii", [pdq(value)])
    assert sweep(banks, settings=settings).matches == {}


def test_stored_matches_are_listed_and_removed_content_is_not_swept(
    banks: Database, settings: Settings
) -> None:
    from shieldwall.matching import Matcher, list_matches, remove_from_ledger

    value = random_pdq(1)
    add_to_ledger(banks, [("gone", [pdq(value)]), ("kept", [pdq(flip_bits(value, 4))])])
    assert remove_from_ledger(banks, ["gone", "never-there"]) == 1
    add_entry(banks, "ncii", [pdq(value)])
    assert sorted(sweep(banks, settings=settings).matches) == ["kept"]
    Matcher(banks, settings=settings).match("upload-1", [pdq(value)])
    stored = list_matches(banks)
    assert [(m.content_id, m.source, m.bank) for m in stored] == [
        ("kept", "sweep", "ncii"),
        ("upload-1", "upload", "ncii"),
    ]
    assert [m.content_id for m in list_matches(banks, source="upload")] == ["upload-1"]
    assert list_matches(banks, after_id=stored[-1].id) == []
    assert [m.distance for m in list_matches(banks, content_id="kept")] == [4]
