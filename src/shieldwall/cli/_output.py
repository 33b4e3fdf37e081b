"""The one ``--format`` of every command that prints records (docs/service.md, "Output
formats"), and the writer that gives each choice the same meaning everywhere:

- ``table``: for people: aligned columns, or ``key: value`` lines for a single record (the
  command draws it; the default of most commands);
- ``json``: one JSON document: an array of the records, or the object itself for a command
  that prints one record (``bank show``, ``key create``);
- ``jsonl``: one JSON object per line, written as each record is ready (for pipes);
- ``csv``: a header line and one line per record; a list or an object in a field is written
  as JSON.

Nothing here imports more than the standard library and Typer: ``shieldwall --help`` loads it.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, TextIO

import typer

__all__ = [
    "FORMAT_HELP",
    "Format",
    "FormatOption",
    "RecordWriter",
    "emit",
    "show_fields",
    "write_records",
]


class Format(StrEnum):
    """How a command prints its records (see the module)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


FORMAT_HELP = (
    "table (for people), json (one document: an array, or the record), jsonl (one object a "
    "line) or csv (a header and a line a record)."
)
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help=FORMAT_HELP, case_sensitive=False)
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RecordWriter:
    """Writes records one at a time in a machine format (``json``, ``jsonl``, ``csv``), so
    that a long batch streams. ``columns`` fixes the csv header (default: the first record's
    keys); ``single`` makes ``json`` print the one record as an object, not an array.
    :meth:`close` ends the document (an empty array when nothing was written)."""

    def __init__(
        self,
        fmt: Format,
        out: TextIO | None = None,
        *,
        columns: Sequence[str] | None = None,
        single: bool = False,
    ) -> None:
        if fmt is Format.table:
            raise ValueError("the table format is drawn by each command")
        self.fmt = fmt
        self.out = out or sys.stdout
        self.columns = list(columns) if columns is not None else None
        self.single = single
        self.count = 0
        self._csv: Any = None

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record."""
        if self.fmt is Format.jsonl:
            self.out.write(json.dumps(record, default=str) + "\n")
        elif self.fmt is Format.json:
            if self.single:
                self.out.write(json.dumps(record, default=str, indent=2) + "\n")
            else:
                lead = "[\n  " if self.count == 0 else ",\n  "
                self.out.write(lead + json.dumps(record, default=str))
        else:
            if self._csv is None:
                self.columns = self.columns or list(record)
                self._csv = csv.writer(self.out, lineterminator="\n")
                self._csv.writerow(self.columns)
            self._csv.writerow([_cell(record.get(c)) for c in self.columns or []])
        self.count += 1
        self.out.flush()

    def close(self) -> None:
        """End the document: the closing bracket of a ``json`` array; a ``csv`` header when
        no record came and ``columns`` are known."""
        if self.fmt is Format.json and not self.single:
            self.out.write("[]\n" if self.count == 0 else "\n]\n")
        elif self.fmt is Format.csv and self._csv is None and self.columns:
            csv.writer(self.out, lineterminator="\n").writerow(self.columns)
        self.out.flush()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_records(
    records: Iterable[Mapping[str, Any]],
    fmt: Format,
    *,
    columns: Sequence[str] | None = None,
    single: bool = False,
) -> int:
    """Write ``records`` in the machine format ``fmt``; returns how many."""
    with RecordWriter(fmt, columns=columns, single=single) as writer:
        for record in records:
            writer.write(record)
    return writer.count


def emit(data: Mapping[str, Any] | Iterable[Mapping[str, Any]], fmt: Format) -> int:
    """Write one record (a mapping: ``json`` prints it as an object) or several (an array) in
    the machine format ``fmt``; returns how many."""
    if isinstance(data, Mapping):
        return write_records([data], fmt, single=True)
    return write_records(data, fmt)


def show_fields(record: Mapping[str, Any]) -> None:
    """One record as ``key: value`` lines (the ``table`` form of a single record)."""
    for key, value in record.items():
        typer.echo(f"{key}: {_cell(value)}")
