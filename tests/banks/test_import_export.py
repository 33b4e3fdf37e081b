"""Import and export: JSON lines, CSV, signal strings, StopNCII records; bad lines go on."""

from __future__ import annotations

import io
import json

import pytest

from bank_helpers import random_pdq
from shieldwall.banks import (
    BankFormat,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
    add_entries,
    add_entry,
    create_bank,
    export_entries,
    get_bank,
    read_entries,
    write_entries,
)
from shieldwall.errors import ImportFormatError
from shieldwall.signals.base import Signal
from shieldwall.store import Database


@pytest.fixture
def source(db: Database) -> Database:
    create_bank(db, "src", "block")
    add_entry(
        db,
        "src",
        [Signal("pdq", random_pdq(1), 88), Signal("md5", "a" * 32)],
        external_ids=["case-1", "case-2"],
        note="note, with a comma",
        provenance=Provenance.VICTIM,
    )
    add_entry(db, "src", [Signal("pdq", random_pdq(2), 70)], external_ids=["case-3"])
    return db


@pytest.mark.parametrize("fmt", list(BankFormat))
def test_round_trip(source: Database, fmt: BankFormat) -> None:
    out = io.StringIO()
    written = write_entries(export_entries(source, "src"), out, fmt)
    assert written == (2 if fmt is BankFormat.jsonl else 3)
    create_bank(source, "dst", "block")
    records = list(read_entries(io.StringIO(out.getvalue()), fmt, name="export"))
    outcome = add_entries(source, "dst", records)
    assert outcome.rejected == []
    original = {(s.type, s.value) for e in export_entries(source, "src") for s in e.signals}
    copied = {(s.type, s.value) for e in export_entries(source, "dst") for s in e.signals}
    assert copied == original
    if fmt not in (BankFormat.signals, BankFormat.threatexchange):  # no cases or notes there
        first = next(iter(export_entries(source, "dst")))
        assert first.external_ids == {"case-1": "active", "case-2": "active"}
        assert first.note == "note, with a comma" and first.provenance is Provenance.VICTIM


def test_bad_records_are_reported_by_line_and_the_rest_go_on(db: Database) -> None:
    create_bank(db, "b", "block")
    good = random_pdq(1)
    text = "\n".join(
        [
            json.dumps({"type": "pdq", "value": good, "quality": 90}),
            "{not json",
            json.dumps({"type": "pdq", "value": "12"}),
            json.dumps({"type": "pdq", "value": random_pdq(2), "quality": 0}),
            json.dumps({"value": random_pdq(3)}),
            json.dumps({"type": "phash", "value": "ab"}),
            json.dumps({"type": "pdq", "value": random_pdq(4), "provenance": "police"}),
            "",
            json.dumps({"signals": [{"type": "md5", "value": "b" * 32}], "external_ids": ["x"]}),
        ]
    )
    outcome = add_entries(db, "b", read_entries(io.StringIO(text), BankFormat.jsonl, name="f"))
    assert len(outcome.created) == 2
    assert [(r.source, r.code) for r in outcome.rejected] == [
        ("f:2", "import_format_error"),
        ("f:3", "malformed_signal"),
        ("f:4", "low_quality_signal"),
        ("f:5", "import_format_error"),
        ("f:6", "unknown_signal_type"),
        ("f:7", "import_format_error"),
    ]


def test_signal_strings_skip_comments(db: Database) -> None:
    text = f"# exported\npdq {random_pdq(1)}\n\nmd5:{'c' * 32}\nbogus\n"
    records = list(read_entries(io.StringIO(text), BankFormat.signals, name="s"))
    assert [type(r) for r in records] == [NewEntry, NewEntry, Rejected]
    assert records[2].source == "s:5"


def test_csv_needs_type_and_value_columns() -> None:
    with pytest.raises(ImportFormatError, match="lacks type, value"):
        list(read_entries(io.StringIO("hash\nabc\n"), BankFormat.csv))


def test_stopncii_records_honour_per_case_withdrawal(db: Database) -> None:
    create_bank(db, "stopncii", "block", source="stopncii")
    value = random_pdq(9)

    def feed(cases: dict[str, str], status: str = "Active") -> None:
        record = {"signalType": "ImagePDQ", "hashValue": value, "hashStatus": status}
        record["caseNumbers"] = cases  # type: ignore[assignment]
        stream = io.StringIO(json.dumps(record) + "\n")
        assert add_entries(db, "stopncii", read_entries(stream, BankFormat.jsonl)).rejected == []

    feed({"C1": "Active", "C2": "Active"})
    feed({"C1": "Withdrawn", "C2": "Active"})  # a later record replaces the earlier one
    [entry] = export_entries(db, "stopncii")
    assert entry.external_ids == {"C1": "withdrawn", "C2": "active"}
    assert entry.provenance is Provenance.PARTNER and get_bank(db, "stopncii").live_signals == 1
    feed({"C1": "Withdrawn", "C2": "Withdrawn"}, status="Withdrawn")
    [entry] = export_entries(db, "stopncii", include_withdrawn=True)
    assert entry.status is EntryStatus.WITHDRAWN
    assert get_bank(db, "stopncii").live_signals == 0
