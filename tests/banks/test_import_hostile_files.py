"""Import files that escaped ``read_entries`` as an exception of the standard library (found
probing ``fuzz/bank_import.py``): a JSON line nested too deeply (``RecursionError``) or with a
number of 5000 digits (``ValueError``) is a rejected line, the rest read; a CSV field over
csv's limit (``csv.Error``) is an ``ImportFormatError`` naming the line, after the lines
before it."""

from __future__ import annotations

import io

import pytest

from shieldwall.banks import BankFormat, NewEntry, Rejected, add_entries, create_bank, read_entries
from shieldwall.errors import ImportFormatError
from shieldwall.store import Database

PDQ = "ab" * 32
GOOD = f'{{"type": "pdq", "value": "{PDQ}"}}'


@pytest.mark.parametrize(
    "line",
    [
        "[" * 3000 + "]" * 3000,
        '{"signals": ' + "[" * 3000 + "]" * 3000 + "}",
        f'{{"type": "pdq", "value": "{PDQ}", "quality": {"9" * 5000}}}',
    ],
)
def test_a_json_line_python_cannot_read_is_a_rejected_line(db: Database, line: str) -> None:
    create_bank(db, "b", "block")
    text = f"{line}\n{GOOD}\n"
    records = list(read_entries(io.StringIO(text), BankFormat.jsonl, name="f.jsonl"))
    assert isinstance(records[0], Rejected) and records[0].source == "f.jsonl:1"
    assert "not JSON" in records[0].reason
    assert isinstance(records[1], NewEntry)
    outcome = add_entries(db, "b", read_entries(io.StringIO(text), BankFormat.jsonl, name="f"))
    assert len(outcome.created) == 1 and len(outcome.rejected) == 1


def test_a_csv_field_over_the_csv_limit_names_its_line() -> None:
    text = f"type,value\npdq,{PDQ}\npdq,{'a' * 200_000}\npdq,{PDQ}\n"
    records = read_entries(io.StringIO(text, newline=""), BankFormat.csv, name="f.csv")
    first = next(records)
    assert isinstance(first, NewEntry) and first.source == "f.csv:2"
    with pytest.raises(ImportFormatError, match=r"f\.csv:3: not CSV \(field larger than"):
        next(records)


def test_a_csv_header_over_the_csv_limit_is_an_import_format_error() -> None:
    text = "type,value," + "x" * 200_000 + "\n"
    with pytest.raises(ImportFormatError, match=r"f\.csv:1: not a CSV header"):
        list(read_entries(io.StringIO(text, newline=""), BankFormat.csv, name="f.csv"))
