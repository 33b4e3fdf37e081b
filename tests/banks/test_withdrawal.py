"""Withdrawal by case: a hash shared by several cases stays while any of them is active."""

from __future__ import annotations

from bank_helpers import pdq, random_pdq
from shieldwall.banks import (
    EntryStatus,
    add_entries,
    add_entry,
    create_bank,
    get_entry,
    withdraw,
    withdraw_entry,
)
from shieldwall.banks._model import NewEntry
from shieldwall.store import Database, LogOp, signal_log


def _ops(db: Database) -> list[str]:
    with db.session() as session:
        return [e.op.value for e in signal_log.read_after(session, 0)]


def test_shared_hash_survives_one_withdrawal(db: Database) -> None:
    create_bank(db, "ncii", "block")
    value = random_pdq(1)
    first = add_entry(db, "ncii", [pdq(value)], external_ids=["case-A"])
    second = add_entry(db, "ncii", [pdq(value)], external_ids=["case-B"])
    assert second.id == first.id  # one entry, held by two cases
    assert second.external_ids == {"case-A": "active", "case-B": "active"}

    outcome = withdraw(db, "case-A")
    assert outcome.kept_entries == [first.id] and outcome.withdrawn_entries == []
    entry = get_entry(db, first.id)
    assert entry.status is EntryStatus.ACTIVE
    assert entry.external_ids == {"case-A": "withdrawn", "case-B": "active"}
    assert _ops(db) == ["add"]  # the hash stays live

    outcome = withdraw(db, "case-B")
    assert outcome.withdrawn_entries == [first.id]
    assert get_entry(db, first.id).status is EntryStatus.WITHDRAWN
    assert _ops(db) == ["add", "remove"]

    # Withdrawing again is harmless; nothing more is logged.
    assert withdraw(db, "case-B").withdrawn_entries == [first.id]
    assert _ops(db) == ["add", "remove"]


def test_one_case_over_several_entries_and_banks(db: Database) -> None:
    create_bank(db, "ncii", "block")
    create_bank(db, "partner", "review")
    a = add_entry(db, "ncii", [pdq(random_pdq(1))], external_ids=["case-X"])
    b = add_entry(db, "ncii", [pdq(random_pdq(2))], external_ids=["case-X", "case-Y"])
    c = add_entry(db, "partner", [pdq(random_pdq(3))], external_ids=["case-X"])
    outcome = withdraw(db, "case-X", bank="ncii")
    assert outcome.withdrawn_entries == [a.id] and outcome.kept_entries == [b.id]
    assert get_entry(db, c.id).status is EntryStatus.ACTIVE  # other bank untouched
    outcome = withdraw(db, "case-X")
    assert outcome.withdrawn_entries == [a.id, c.id] and outcome.kept_entries == [b.id]


def test_a_new_case_brings_a_withdrawn_hash_back(db: Database) -> None:
    create_bank(db, "ncii", "block")
    value = random_pdq(1)
    entry = add_entry(db, "ncii", [pdq(value)], external_ids=["case-A"])
    withdraw(db, "case-A")
    again = add_entry(db, "ncii", [pdq(value)], external_ids=["case-C"])
    assert again.id == entry.id and again.status is EntryStatus.ACTIVE
    assert _ops(db) == ["add", "remove", "add"]


def test_a_record_of_withdrawn_cases_does_not_revive(db: Database) -> None:
    create_bank(db, "ncii", "block")
    value = random_pdq(1)
    add_entry(db, "ncii", [pdq(value)], external_ids=["case-A", "case-B"])
    # A partner's later record: case A withdrawn, B still active; then both withdrawn.
    add_entries(db, "ncii", [NewEntry([pdq(value)], ["case-B"], withdrawn_ids=["case-A"])])
    assert _ops(db) == ["add"]
    outcome = add_entries(db, "ncii", [NewEntry([pdq(value)], [], withdrawn_ids=["case-B"])])
    [entry_id] = outcome.merged
    assert get_entry(db, entry_id).status is EntryStatus.WITHDRAWN
    assert _ops(db) == ["add", "remove"]
    add_entries(db, "ncii", [NewEntry([pdq(value)], [], withdrawn_ids=["case-B"])])
    assert get_entry(db, entry_id).status is EntryStatus.WITHDRAWN


def test_withdraw_entry_whatever_its_cases(db: Database) -> None:
    create_bank(db, "ncii", "block")
    entry = add_entry(db, "ncii", [pdq(random_pdq(1))], external_ids=["a", "b"])
    withdrawn = withdraw_entry(db, entry.id)
    assert withdrawn.status is EntryStatus.WITHDRAWN
    assert set(withdrawn.external_ids.values()) == {"withdrawn"}
    with db.session() as session:
        assert signal_log.read_after(session, 0)[-1].op is LogOp.REMOVE
