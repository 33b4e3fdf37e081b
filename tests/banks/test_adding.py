"""Adding entries: several signals per entry, adding twice is harmless, batches go on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bank_helpers import counts, pdq, random_pdq
from shieldwall.banks import (
    EntryStatus,
    NewEntry,
    Provenance,
    add_entries,
    add_entry,
    create_bank,
    disable_entry,
    enable_entry,
    get_bank,
    withdraw,
)
from shieldwall.errors import Conflict, UsageError
from shieldwall.signals.base import Signal
from shieldwall.store import Database, utcnow


def test_an_entry_holds_several_signals_provenance_and_note(db: Database) -> None:
    create_bank(db, "ncii", "block")
    entry = add_entry(
        db,
        "ncii",
        [pdq(random_pdq(1)), Signal("md5", "A" * 32)],
        external_ids=["case-1"],
        note="reported 2026-11-02",
        provenance=Provenance.VICTIM,
    )
    assert [s.type for s in entry.signals] == ["pdq", "md5"]
    assert entry.signals[1].value == "a" * 32  # canonical form
    assert entry.provenance is Provenance.VICTIM and entry.note == "reported 2026-11-02"
    assert get_bank(db, "ncii").entry_counts == {"active": 1}


def test_adding_the_same_thing_twice_is_harmless(db: Database) -> None:
    create_bank(db, "ncii", "block")
    signals = [pdq(random_pdq(1)), Signal("md5", "b" * 32)]
    first = add_entry(db, "ncii", signals, external_ids=["case-1"])
    before = counts(db)
    second = add_entry(db, "ncii", signals, external_ids=["case-1"])
    assert second.id == first.id
    assert counts(db) == before


def test_the_same_hash_in_two_banks_is_two_entries(db: Database) -> None:
    create_bank(db, "a", "block")
    create_bank(db, "b", "review")
    value = random_pdq(1)
    assert add_entry(db, "a", [pdq(value)]).id != add_entry(db, "b", [pdq(value)]).id


def test_batch_reports_bad_items_and_goes_on(db: Database) -> None:
    create_bank(db, "ncii", "block")
    items = [NewEntry([pdq(random_pdq(i))], [f"case-{i}"], source=f"item {i}") for i in range(5)]
    items.insert(2, NewEntry([Signal("pdq", "xyz", 90)], source="bad one"))
    items.insert(4, NewEntry([pdq(random_pdq(1))], ["case-1b"], source="dup"))
    outcome = add_entries(db, "ncii", items, chunk_size=2)
    assert len(outcome.created) == 5 and len(outcome.merged) == 1
    assert [(r.source, r.code) for r in outcome.rejected] == [("bad one", "malformed_signal")]


def test_bad_external_id(db: Database) -> None:
    create_bank(db, "ncii", "block")
    with pytest.raises(UsageError, match="external id"):
        add_entry(db, "ncii", [pdq(random_pdq(1))], external_ids=[" padded"])


def test_disable_until_a_time(db: Database) -> None:
    create_bank(db, "ncii", "block")
    entry = add_entry(db, "ncii", [pdq(random_pdq(1))], external_ids=["c"])
    until = utcnow() + timedelta(days=1)
    disabled = disable_entry(db, entry.id, until)
    assert disabled.status is EntryStatus.DISABLED and disabled.disabled_until == until
    assert enable_entry(db, entry.id).status is EntryStatus.ACTIVE
    withdraw(db, "c")
    with pytest.raises(Conflict, match="withdrawn"):
        disable_entry(db, entry.id)


def test_an_entry_may_hold_several_signals_of_one_type(db: Database) -> None:
    create_bank(db, "ncii", "block")
    variants = [pdq(random_pdq(1)), pdq(random_pdq(2))]  # e.g. the photo and a crop of it
    entry = add_entry(db, "ncii", variants, external_ids=["case-1"])
    assert [s.value for s in entry.signals] == [v.value for v in variants]
    assert add_entry(db, "ncii", variants[1:], external_ids=["case-2"]).id == entry.id
