"""Bank import and export: JSON lines, CSV, and one-signal-per-line strings.

Formats (``docs/banks.md`` has examples):

``jsonl``
    One object per line. Our own form, as :func:`export_entries` writes it::

        {"signals": [{"type": "pdq", "value": "<64 hex>", "quality": 92}],
         "external_ids": ["case-1"], "withdrawn_ids": [], "note": "", "provenance": "victim"}

    A single signal may be given flat (``{"type": "pdq", "value": ..., "quality": ...}``), and a
    StopNCII hash record is read as well (``signalType`` ``ImagePDQ``/``VideoMD5``,
    ``hashValue``, ``caseNumbers`` mapping each case to its status, ``hashStatus``).
``csv``
    Header ``type,value,quality,external_ids,withdrawn_ids,note,provenance`` (only ``type`` and
    ``value`` required); several ids are separated by ``;``.
``signals``
    One signal string per line: ``pdq <hex>`` (as python-threatexchange's ``threatexchange hash``
    prints it) or ``pdq:<hex>`` / ``pdq:<hex>:<quality>``; a vpdq value on one line, its
    frames separated by ``;``. Blank lines and ``#`` comments are skipped.
``threatexchange``
    python-threatexchange's file exchange (``exchanges/impl/file_api.py``) and HMA's signal
    strings: ``<type> <value>`` a line, with HMA's type names (``pdq``, ``video_md5``);
    read as ``signals`` is; written for the types kept inline (a vpdq frame set is left out).

Reading never stops at a bad record: it yields a :class:`Rejected` naming the line and the
reason, and :func:`~shieldwall.banks.add_entries` reports it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from sqlalchemy import select

from shieldwall.banks._banks import _bank, parse_signal_string
from shieldwall.banks._entries import _entry_info
from shieldwall.banks._model import (
    BankFormat,
    EntryInfo,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
)
from shieldwall.errors import ImportFormatError, ShieldwallError, UnknownSignalType
from shieldwall.signals import Exchange, Signal, Storage, from_exchange_name, get_signal_type
from shieldwall.store import BankEntry, Database

__all__ = ["BankFormat", "entry_to_json", "export_entries", "read_entries", "write_entries"]

CSV_FIELDS = ("type", "value", "quality", "external_ids", "withdrawn_ids", "note", "provenance")
_WITHDRAWN = {"withdrawn", "deleted"}


def _ids(value: Any, what: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ImportFormatError(f"{what} must be a list of strings")


def _quality(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ImportFormatError("quality must be a whole number 0..100")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ImportFormatError(f"quality {value!r} is not a whole number") from None


def _signal(obj: Any) -> Signal:
    if not isinstance(obj, dict):
        raise ImportFormatError("a signal must be an object with type and value")
    kind, value = obj.get("type"), obj.get("value")
    if not isinstance(kind, str) or not isinstance(value, str):
        raise ImportFormatError("a signal needs string fields type and value")
    variant = obj.get("variant")
    if variant is not None and (not isinstance(variant, str) or not 0 < len(variant) <= 32):
        raise ImportFormatError("a signal's variant must be a name of 1-32 characters")
    return Signal(kind.strip().lower(), value, _quality(obj.get("quality")), variant)


def _provenance(value: Any, default: Provenance) -> Provenance:
    if value is None or value == "":
        return default
    try:
        return Provenance(str(value).lower())
    except ValueError:
        known = ", ".join(p.value for p in Provenance)
        raise ImportFormatError(f"provenance {value!r} is not one of {known}") from None


def _from_object(obj: Any, source: str, provenance: Provenance) -> NewEntry:
    if not isinstance(obj, dict):
        raise ImportFormatError("each line must be a JSON object")
    if "hashValue" in obj:  # a StopNCII hash record
        try:
            kind = from_exchange_name(Exchange.STOPNCII, str(obj.get("signalType", ""))).name
        except UnknownSignalType as exc:
            raise ImportFormatError(exc.message) from None
        cases = obj.get("caseNumbers") or {}
        if not isinstance(cases, dict):
            raise ImportFormatError("caseNumbers must map case numbers to statuses")
        all_gone = str(obj.get("hashStatus", "")).lower() in _WITHDRAWN
        active = [c for c, s in cases.items() if not all_gone and str(s).lower() not in _WITHDRAWN]
        gone = [c for c in cases if c not in active]
        return NewEntry(
            signals=[Signal(kind, str(obj["hashValue"]))],
            external_ids=active,
            withdrawn_ids=gone,
            provenance=Provenance.PARTNER,
            source=source,
        )
    signals = [_signal(s) for s in obj["signals"]] if "signals" in obj else [_signal(obj)]
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise ImportFormatError("note must be a string")
    return NewEntry(
        signals=signals,
        external_ids=_ids(obj.get("external_ids"), "external_ids"),
        withdrawn_ids=_ids(obj.get("withdrawn_ids"), "withdrawn_ids"),
        note=note,
        provenance=_provenance(obj.get("provenance"), provenance),
        source=source,
    )


def read_entries(
    stream: TextIO,
    fmt: BankFormat,
    *,
    name: str = "<input>",
    provenance: Provenance = Provenance.REVIEWER,
) -> Iterator[NewEntry | Rejected]:
    """Read ``stream`` lazily: one :class:`NewEntry` per record, or a :class:`Rejected` saying
    which line is wrong and why. ``provenance`` applies to records that do not name theirs."""
    if fmt is BankFormat.csv:
        reader = csv.DictReader(stream)
        try:
            header = reader.fieldnames
        except csv.Error as exc:
            raise ImportFormatError(f"{name}:1: not a CSV header ({exc})") from None
        missing = {"type", "value"} - set(header or [])
        if missing:
            raise ImportFormatError(f"{name}: CSV header lacks {', '.join(sorted(missing))}")
        rows = iter(reader)
        while True:
            # A field over csv's limit (128 KiB) was a csv.Error out of the import (found with
            # fuzz/bank_import.py): a clear error naming the line; the records before it count.
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFormatError(
                    f"{name}:{reader.line_num + 1}: not CSV ({exc}); stopped at this line "
                    "(long vpdq values: use the jsonl format)"
                ) from None
            source = f"{name}:{reader.line_num}"
            try:
                yield NewEntry(
                    signals=[
                        Signal(
                            (row.get("type") or "").strip().lower(),
                            row.get("value") or "",
                            _quality(row.get("quality")),
                        )
                    ],
                    external_ids=_ids(row.get("external_ids"), "external_ids"),
                    withdrawn_ids=_ids(row.get("withdrawn_ids"), "withdrawn_ids"),
                    note=row.get("note") or "",
                    provenance=_provenance(row.get("provenance"), provenance),
                    source=source,
                )
            except ShieldwallError as exc:
                yield Rejected(source, exc.message, exc.code)
    for number, line in enumerate(stream, start=1):
        text = line.strip()
        source = f"{name}:{number}"
        lines = (BankFormat.signals, BankFormat.threatexchange)
        if not text or (fmt in lines and text.startswith("#")):
            continue
        try:
            if fmt in lines:
                yield NewEntry([parse_signal_string(text)], provenance=provenance, source=source)
            else:
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ImportFormatError(f"not JSON: {exc.msg}") from None
                except (ValueError, RecursionError):  # 5000 digits, [[[[... (fuzz/)
                    raise ImportFormatError(
                        "not JSON this reader takes: a number over 4300 digits or nesting too deep"
                    ) from None
                yield _from_object(obj, source, provenance)
        except (KeyError, TypeError):
            yield Rejected(source, "record lacks a required field", ImportFormatError.code)
        except ShieldwallError as exc:
            yield Rejected(source, exc.message, exc.code)


def export_entries(
    db: Database, bank: str, *, include_withdrawn: bool = False
) -> Iterator[EntryInfo]:
    """Every entry of ``bank`` in id order (withdrawn ones only when asked)."""
    last = 0
    while True:
        with db.session() as session:
            bank_id = _bank(session, bank).id
            query = (
                select(BankEntry)
                .where(BankEntry.bank_id == bank_id, BankEntry.id > last)
                .order_by(BankEntry.id)
                .limit(1000)
            )
            if not include_withdrawn:
                query = query.where(BankEntry.status != EntryStatus.WITHDRAWN.value)
            batch = [_entry_info(session, e, bank) for e in session.scalars(query)]
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def entry_to_json(entry: EntryInfo) -> dict[str, object]:
    """Our JSON-lines record of an entry (what ``import`` reads back)."""
    return {
        "entry_id": entry.id,
        "status": entry.status.value,
        "signals": [
            {
                "type": s.type,
                "value": s.value,
                **({"quality": s.quality} if s.quality else {}),
                **({"variant": s.variant} if s.variant else {}),
            }
            for s in entry.signals
        ],
        "external_ids": [k for k, v in entry.external_ids.items() if v == "active"],
        "withdrawn_ids": [k for k, v in entry.external_ids.items() if v != "active"],
        "note": entry.note,
        "provenance": entry.provenance.value,
    }


def write_entries(entries: Iterable[EntryInfo], out: TextIO, fmt: BankFormat) -> int:
    """Write ``entries`` to ``out`` in ``fmt``; returns the count of records written."""
    count = 0
    writer: csv.DictWriter[str] | None = None
    if fmt is BankFormat.csv:
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
    for entry in entries:
        if fmt is BankFormat.jsonl:
            out.write(json.dumps(entry_to_json(entry)) + "\n")
            count += 1
            continue
        record = entry_to_json(entry)
        for s in entry.signals:
            if writer is not None:
                writer.writerow(
                    {
                        "type": s.type,
                        "value": s.value,
                        "quality": "" if s.quality is None else s.quality,
                        "external_ids": ";".join(record["external_ids"]),  # type: ignore[arg-type]
                        "withdrawn_ids": ";".join(record["withdrawn_ids"]),  # type: ignore[arg-type]
                        "note": entry.note,
                        "provenance": entry.provenance.value,
                    }
                )
            elif fmt is BankFormat.threatexchange:
                kind = get_signal_type(s.type)
                if kind.storage is Storage.SIDE_TABLE or s.variant is not None:
                    continue
                name = kind.exchange_names.get(Exchange.THREATEXCHANGE, kind.name)
                out.write(f"{name} {s.value}\n")
            elif get_signal_type(s.type).storage is Storage.SIDE_TABLE:
                # one line: a frame set's lines separated by ';' (a vpdq's quality: the best's)
                out.write(f"{s.type}:{s.value.replace(chr(10), ';')}\n")
            else:
                suffix = "" if s.quality is None else f":{s.quality}"
                out.write(f"{s.type}:{s.value}{suffix}\n")
            count += 1
    return count
