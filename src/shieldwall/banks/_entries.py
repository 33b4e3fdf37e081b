"""Bank entries: adding items (one or in bulk), merging repeats, keeping the log in step.

Every change of a bank's signals is written to the signal log in the same transaction, so the
log (which every index follows) and the banks never disagree.

    >>> db = Database("sqlite:///shieldwall.db")                          # doctest: +SKIP
    >>> create_bank(db, "ncii", BankKind.BLOCK)                           # doctest: +SKIP
    >>> add_entry(db, "ncii", [parse_signal_string("pdq:f8f8...")],       # doctest: +SKIP
    ...           external_ids=["case-1"], provenance=Provenance.VICTIM)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks._banks import _bank, prepare_signal, stored_value
from shieldwall.banks._model import (
    AddOutcome,
    EntryInfo,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
)
from shieldwall.errors import (
    MalformedSignal,
    NotFound,
    ShieldwallError,
    UsageError,
)
from shieldwall.signals import Signal, Storage, get_signal_type
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    BankSignalValue,
    Database,
    EntryExternalId,
    signal_log,
    utcnow,
)
from shieldwall.store.bulk import insert_rows
from shieldwall.store.signal_log import LogOp

__all__ = [
    "CHUNK_SIZE",
    "SignalInfo",
    "add_entries",
    "add_entries_in",
    "add_entry",
    "add_entry_in",
    "entry_holders_in",
    "find_entries",
    "get_entry",
    "list_signals",
]

CHUNK_SIZE = 500

# -- entries ---------------------------------------------------------------------------------


def _key_filter(keys: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    """``(type, value) IN keys`` written so that every database uses the (type, value) index
    (SQLite scans the table for a row-value IN)."""
    return and_(
        BankSignal.type.in_({t for t, _ in keys}), BankSignal.value.in_({v for _, v in keys})
    )


def _key(signal: Signal) -> tuple[str, str]:
    """A signal's ``(type, value)`` as ``bank_signal`` holds it (a side-table value: its
    storage key)."""
    return signal.type, stored_value(signal)


def _side_rows(signal_ids: Sequence[int], signals: Sequence[Signal]) -> list[dict[str, object]]:
    """``bank_signal_value`` rows for the signals among ``signals`` whose type is kept in the
    side table (inserted as ``signal_ids``)."""
    return [
        {"signal_id": i, "value": s.value}
        for i, s in zip(signal_ids, signals, strict=True)
        if get_signal_type(s.type).storage is Storage.SIDE_TABLE
    ]


def _entry_info(session: Session, entry: BankEntry, bank_name: str | None = None) -> EntryInfo:
    if bank_name is None:
        bank_name = session.scalar(select(Bank.name).where(Bank.id == entry.bank_id)) or ""
    signals = [
        Signal(s.type, frames if frames is not None else s.value, s.quality, s.variant)
        for s, frames in session.execute(
            select(BankSignal, BankSignalValue.value)
            .outerjoin(BankSignalValue, BankSignalValue.signal_id == BankSignal.id)
            .where(BankSignal.entry_id == entry.id)
            .order_by(BankSignal.id)
        )
    ]
    external = {
        e.external_id: e.status
        for e in session.scalars(
            select(EntryExternalId)
            .where(EntryExternalId.entry_id == entry.id)
            .order_by(EntryExternalId.id)
        )
    }
    return EntryInfo(
        id=entry.id,
        bank=bank_name,
        status=EntryStatus(entry.status),
        disabled_until=entry.disabled_until,
        note=entry.note,
        provenance=Provenance(entry.provenance),
        signals=signals,
        external_ids=external,
        created_at=entry.created_at,
    )


def _sync_signals(session: Session, entry: BankEntry) -> None:
    """Make the entry's signals live exactly when it is not withdrawn, logging each flip."""
    want_live = entry.status != EntryStatus.WITHDRAWN
    flipped = list(
        session.scalars(
            select(BankSignal)
            .where(BankSignal.entry_id == entry.id, BankSignal.live != want_live)
            .order_by(BankSignal.id)
        )
    )
    for s in flipped:
        s.live = want_live
    session.flush()
    signal_log.append(session, LogOp.ADD if want_live else LogOp.REMOVE, flipped)


def _settle_status(session: Session, entry: BankEntry) -> None:
    """An entry held only by withdrawn external ids is withdrawn."""
    rows = session.execute(
        select(EntryExternalId.status, func.count())
        .where(EntryExternalId.entry_id == entry.id)
        .group_by(EntryExternalId.status)
    )
    counts = {str(status): int(n) for status, n in rows}
    if counts and not counts.get("active"):
        entry.status = EntryStatus.WITHDRAWN.value
        entry.disabled_until = None


def _apply(session: Session, bank: Bank, new: NewEntry) -> tuple[int, bool]:
    """Add one item to ``bank``; returns ``(entry id, created)``."""
    keys = [_key(s) for s in new.signals]
    existing = {
        (s.type, s.value): s
        for s in session.scalars(
            select(BankSignal).where(BankSignal.bank_id == bank.id, _key_filter(keys))
        )
        if (s.type, s.value) in keys
    }
    created = not existing
    if created:
        entry = BankEntry(
            bank_id=bank.id,
            note=new.note,
            provenance=new.provenance.value,
            status=EntryStatus.ACTIVE.value,
        )
        session.add(entry)
        session.flush()
    else:
        first = min(existing.values(), key=lambda s: s.id)
        found = session.get(BankEntry, first.entry_id)
        assert found is not None
        entry = found
        if new.note and not entry.note:
            entry.note = new.note
    holders = {
        e.external_id: e
        for e in session.scalars(
            select(EntryExternalId).where(EntryExternalId.entry_id == entry.id)
        )
    }
    was_held = bool(holders)
    now = utcnow()
    for external_id in dict.fromkeys(new.external_ids):
        holder = holders.get(external_id)
        if holder is None:
            holders[external_id] = holder = EntryExternalId(
                entry_id=entry.id, external_id=external_id, status="active"
            )
            session.add(holder)
        elif holder.status != "active":
            holder.status, holder.withdrawn_at = "active", None
    for external_id in dict.fromkeys(new.withdrawn_ids):
        holder = holders.get(external_id)
        if holder is None:
            holders[external_id] = holder = EntryExternalId(
                entry_id=entry.id, external_id=external_id, status="withdrawn", withdrawn_at=now
            )
            session.add(holder)
        elif holder.status == "active":
            holder.status, holder.withdrawn_at = "withdrawn", now
    session.flush()
    if entry.status == EntryStatus.WITHDRAWN and (
        new.external_ids or (not was_held and not new.withdrawn_ids)
    ):
        entry.status = EntryStatus.ACTIVE.value  # a new active case (or a deliberate re-add)
    _settle_status(session, entry)
    live = entry.status != EntryStatus.WITHDRAWN
    added = [s for s in new.signals if _key(s) not in existing]
    fresh = [
        BankSignal(
            bank_id=bank.id,
            entry_id=entry.id,
            type=s.type,
            value=stored_value(s),
            quality=s.quality,
            variant=s.variant,
            live=live,
        )
        for s in added
    ]
    session.add_all(fresh)
    session.flush()
    insert_rows(session, BankSignalValue, _side_rows([f.id for f in fresh], added))
    if live:
        signal_log.append(session, LogOp.ADD, fresh)
    _sync_signals(session, entry)
    return entry.id, created


def _existing_keys(
    session: Session, bank: Bank, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    wanted = set(keys)
    for i in range(0, len(keys), 400):
        part = keys[i : i + 400]
        rows = session.execute(
            select(BankSignal.type, BankSignal.value).where(
                BankSignal.bank_id == bank.id,
                _key_filter(part),
            )
        )
        found.update((t, v) for t, v in rows if (t, v) in wanted)
    return found


def _apply_chunk(session: Session, bank: Bank, ready: list[NewEntry], outcome: AddOutcome) -> None:
    """Add a chunk: items new to the bank are inserted in bulk (one statement per table), the
    rest (merges, duplicates within the chunk, withdrawal records) one by one after them."""
    existing = _existing_keys(session, bank, [_key(s) for n in ready for s in n.signals])
    fresh: list[NewEntry] = []
    later: list[NewEntry] = []
    seen: set[tuple[str, str]] = set(existing)
    for new in ready:
        keys = {_key(s) for s in new.signals}
        if keys & seen or (new.withdrawn_ids and not new.external_ids):
            later.append(new)
        else:
            fresh.append(new)
        seen |= keys
    if fresh:
        now = utcnow()
        entry_ids = insert_rows(
            session,
            BankEntry,
            [
                {
                    "bank_id": bank.id,
                    "note": new.note,
                    "provenance": new.provenance.value,
                    "status": EntryStatus.ACTIVE.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for new in fresh
            ],
            returning_ids=True,
        )
        holders: list[dict[str, object]] = []
        signals: list[dict[str, object]] = []
        originals: list[Signal] = []
        for entry_id, new in zip(entry_ids, fresh, strict=True):
            for external_id in dict.fromkeys(new.external_ids):
                holders.append(
                    {
                        "entry_id": entry_id,
                        "external_id": external_id,
                        "status": "active",
                        "added_at": now,
                        "withdrawn_at": None,
                    }
                )
            for external_id in dict.fromkeys(new.withdrawn_ids):
                if external_id not in new.external_ids:
                    holders.append(
                        {
                            "entry_id": entry_id,
                            "external_id": external_id,
                            "status": "withdrawn",
                            "added_at": now,
                            "withdrawn_at": now,
                        }
                    )
            signals.extend(
                {
                    "bank_id": bank.id,
                    "entry_id": entry_id,
                    "type": s.type,
                    "value": stored_value(s),
                    "quality": s.quality,
                    "variant": s.variant,
                    "live": True,
                    "created_at": now,
                }
                for s in new.signals
            )
            originals.extend(new.signals)
        insert_rows(session, EntryExternalId, holders)
        signal_ids = insert_rows(session, BankSignal, signals, returning_ids=True)
        insert_rows(session, BankSignalValue, _side_rows(signal_ids, originals))
        signal_log.append(
            session,
            LogOp.ADD,
            [
                (i, str(s["type"]), str(s["value"]))
                for i, s in zip(signal_ids, signals, strict=True)
            ],
        )
        outcome.created.extend(entry_ids)
    for new, unchanged in zip(later, _unchanged(session, bank, later), strict=True):
        if unchanged is not None:
            outcome.merged.append(unchanged)
            continue
        entry_id, created = _apply(session, bank, new)
        (outcome.created if created else outcome.merged).append(entry_id)


def _unchanged(session: Session, bank: Bank, items: list[NewEntry]) -> list[int | None]:
    """For each item, the id of the entry it would merge into without changing anything (its
    signals all there, its cases already active, nothing withdrawn), else ``None``. Re-importing
    an unchanged feed then costs three queries per chunk."""
    if not items:
        return []
    wanted = {_key(s) for n in items for s in n.signals}
    keys = list(wanted)
    owner: dict[tuple[str, str], int] = {}
    for i in range(0, len(keys), 400):
        rows = session.execute(
            select(BankSignal.type, BankSignal.value, BankSignal.entry_id).where(
                BankSignal.bank_id == bank.id,
                _key_filter(keys[i : i + 400]),
            )
        )
        owner.update({(t, v): e for t, v, e in rows if (t, v) in wanted})
    entry_ids = list(set(owner.values()))
    status: dict[int, str] = {}
    noted: dict[int, bool] = {}
    active: dict[int, set[str]] = {}
    for i in range(0, len(entry_ids), 400):
        part = entry_ids[i : i + 400]
        for entry_id, entry_status, note in session.execute(
            select(BankEntry.id, BankEntry.status, BankEntry.note).where(BankEntry.id.in_(part))
        ):
            status[entry_id] = entry_status
            noted[entry_id] = bool(note)
        for entry_id, external_id in session.execute(
            select(EntryExternalId.entry_id, EntryExternalId.external_id).where(
                EntryExternalId.entry_id.in_(part), EntryExternalId.status == "active"
            )
        ):
            active.setdefault(entry_id, set()).add(external_id)
    out: list[int | None] = []
    touched: set[int] = set()
    for new in items:
        owners = {owner.get(_key(s), -1) for s in new.signals}
        entry_id = owners.pop() if len(owners) == 1 else -1
        same = (
            entry_id >= 0
            and entry_id not in touched
            and not new.withdrawn_ids
            and status.get(entry_id) != EntryStatus.WITHDRAWN
            and set(new.external_ids) <= active.get(entry_id, set())
            and (not new.note or noted.get(entry_id, False))
        )
        out.append(entry_id if same else None)
        if not same:
            touched.update(owner.get(_key(s), -1) for s in new.signals)
    return out


def _validate(new: NewEntry) -> NewEntry:
    if not new.signals:
        raise MalformedSignal("no usable signal to add")
    signals = [
        replace(prepare_signal(s.type, s.value, s.quality), variant=s.variant) for s in new.signals
    ]
    for external_id in [*new.external_ids, *new.withdrawn_ids]:
        if not external_id or len(external_id) > 200 or external_id != external_id.strip():
            raise UsageError(f"external id {external_id!r} must be 1-200 characters, no padding")
    return NewEntry(
        # The first of equal signals stays: the signal as given before a variant equal to it.
        signals=list({_key(s): s for s in reversed(signals)}.values())[::-1],
        external_ids=new.external_ids,
        note=new.note,
        provenance=Provenance(new.provenance),
        withdrawn_ids=new.withdrawn_ids,
        source=new.source,
    )


def add_entries(
    db: Database,
    bank: str,
    entries: Iterable[NewEntry | Rejected],
    *,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    by: str = "system",
    action: str = "bank.add",
) -> AddOutcome:
    """Add many items to ``bank``, ``chunk_size`` per transaction.

    An item whose signals are invalid (or a :class:`Rejected` passed through from a parser) is
    listed in :attr:`AddOutcome.rejected` and the rest go on. Each chunk commits whole or not at
    all: a crash leaves complete entries and a signal log that matches them. Adding an item
    whose signal is already in the bank merges into the existing entry (new external ids are
    attached; nothing is duplicated). ``progress`` is called with the count of items handled.
    Each chunk records one audit event (``action``, ``bank.add`` or ``bank.import``, by ``by``)
    in its transaction.
    """
    outcome = AddOutcome()
    with db.session() as session:
        _bank(session, bank)  # NotFound before any work
    iterator = iter(entries)
    while chunk := list(islice(iterator, chunk_size)):
        ready = _ready(chunk, outcome)
        if ready:
            with db.transaction() as session:
                before = len(outcome.created), len(outcome.merged)
                _apply_chunk(session, _bank(session, bank), ready, outcome)
                _record_add(
                    session, by=by, action=action, bank=bank, outcome=outcome, before=before
                )
        if progress is not None:
            progress(len(chunk))
    return outcome


def _record_add(
    session: Session,
    *,
    by: str,
    action: str,
    bank: str,
    outcome: AddOutcome,
    before: tuple[int, int],
) -> None:
    created = outcome.created[before[0] :]
    merged = outcome.merged[before[1] :]
    details = {"created": len(created), "merged": len(merged), "entries": [*created, *merged][:100]}
    record_event(session, by, action, f"bank:{bank}", details)


def _ready(chunk: Sequence[NewEntry | Rejected], outcome: AddOutcome) -> list[NewEntry]:
    ready: list[NewEntry] = []
    for item in chunk:
        if isinstance(item, Rejected):
            outcome.rejected.append(item)
            continue
        try:
            ready.append(_validate(item))
        except ShieldwallError as exc:
            outcome.rejected.append(Rejected(item.source, exc.message, exc.code))
    return ready


def add_entries_in(
    session: Session,
    bank: str,
    entries: Iterable[NewEntry | Rejected],
    *,
    chunk_size: int = CHUNK_SIZE,
    by: str | None = None,
) -> AddOutcome:
    """:func:`add_entries` in the caller's transaction (``session``), for callers whose own
    change must commit together with the entries (an exchange's checkpoint). Invalid items are
    listed in :attr:`AddOutcome.rejected` and the rest are added, as with :func:`add_entries`;
    with ``by``, one ``bank.import`` audit event records it."""
    outcome = AddOutcome()
    target = _bank(session, bank)
    iterator = iter(entries)
    while chunk := list(islice(iterator, chunk_size)):
        ready = _ready(chunk, outcome)
        if ready:
            _apply_chunk(session, target, ready, outcome)
    if by is not None and outcome.entry_ids:
        _record_add(session, by=by, action="bank.import", bank=bank, outcome=outcome, before=(0, 0))
    return outcome


def entry_holders_in(
    session: Session, bank: str, signals: Sequence[Signal]
) -> dict[tuple[str, str], tuple[int, dict[str, str]]]:
    """For each of ``signals`` already in ``bank`` (keyed by ``(type, stored value)``): the
    entry holding it and that entry's external ids with their status (``active`` |
    ``withdrawn``). An exchange reads it to replace the state it gave a hash before."""
    target = _bank(session, bank)
    keys = list({_key(s) for s in signals})
    wanted = set(keys)
    owner: dict[tuple[str, str], int] = {}
    for i in range(0, len(keys), 400):
        rows = session.execute(
            select(BankSignal.type, BankSignal.value, BankSignal.entry_id).where(
                BankSignal.bank_id == target.id, _key_filter(keys[i : i + 400])
            )
        )
        owner.update({(t, v): e for t, v, e in rows if (t, v) in wanted})
    held: dict[int, dict[str, str]] = {e: {} for e in owner.values()}
    entry_ids = list(held)
    for i in range(0, len(entry_ids), 400):
        for entry_id, external_id, status in session.execute(
            select(
                EntryExternalId.entry_id, EntryExternalId.external_id, EntryExternalId.status
            ).where(EntryExternalId.entry_id.in_(entry_ids[i : i + 400]))
        ):
            held[entry_id][external_id] = status
    return {key: (entry_id, held[entry_id]) for key, entry_id in owner.items()}


def add_entry(
    db: Database,
    bank: str,
    signals: Sequence[Signal],
    *,
    external_ids: Sequence[str] = (),
    note: str = "",
    provenance: Provenance | str = Provenance.REVIEWER,
    by: str = "system",
) -> EntryInfo:
    """Add one item (its signals) to ``bank`` and return the entry, new or merged into.

    Invalid input raises (:class:`MalformedSignal`, :class:`~shieldwall.errors.LowQualitySignal`,
    ...) and writes nothing.
    """
    with db.transaction() as session:
        entry_id = add_entry_in(
            session, bank, signals, external_ids=external_ids, note=note, provenance=provenance
        )
        entry = session.get(BankEntry, entry_id)
        assert entry is not None
        record_event(session, by, "bank.add", f"bank:{bank}", {"entries": [entry_id]})
        return _entry_info(session, entry, bank)


def add_entry_in(
    session: Session,
    bank: str,
    signals: Sequence[Signal],
    *,
    external_ids: Sequence[str] = (),
    note: str = "",
    provenance: Provenance | str = Provenance.REVIEWER,
) -> int:
    """:func:`add_entry` in the caller's transaction (``session``), for callers whose own
    change must commit together with the entry (a case decision); returns the entry's id.
    Invalid input raises before anything is written; the caller's rollback undoes the rest."""
    new = _validate(
        NewEntry(
            signals=list(signals),
            external_ids=list(external_ids),
            note=note,
            provenance=Provenance(provenance),
        )
    )
    entry_id, _ = _apply(session, _bank(session, bank), new)
    return entry_id


def get_entry(db: Database, entry_id: int) -> EntryInfo:
    """One entry; :class:`~shieldwall.errors.NotFound` when absent."""
    with db.session() as session:
        return _entry_info(session, _entry(session, entry_id))


def find_entries(
    db: Database, bank: str, *, external_id: str | None = None, limit: int = 50
) -> list[EntryInfo]:
    """A bank's entries, newest first: those an ``external_id`` (a case number, exactly as
    stored) holds or held, or the latest ones without it. An unknown bank is
    :class:`~shieldwall.errors.NotFound`."""
    with db.session() as session:
        target = _bank(session, bank)
        query = select(BankEntry).where(BankEntry.bank_id == target.id)
        if external_id is not None:
            held = select(EntryExternalId.entry_id).where(
                EntryExternalId.external_id == external_id
            )
            query = query.where(BankEntry.id.in_(held))
        rows = list(session.scalars(query.order_by(BankEntry.id.desc()).limit(limit)))
        return [_entry_info(session, e, target.name) for e in rows]


def _entry(session: Session, entry_id: int) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound(f"no bank entry with id {entry_id}")
    return entry


@dataclass(frozen=True, slots=True)
class SignalInfo:
    """One bank signal as lists show it (a vpdq signal's value is the digest of its frames)."""

    id: int
    bank: str
    entry_id: int
    type: str
    value: str
    quality: int | None
    live: bool
    quarantined: bool
    created_at: datetime


def list_signals(
    db: Database,
    bank: str,
    *,
    signal_type: str | None = None,
    live_only: bool = True,
    after_id: int = 0,
    limit: int = 100,
) -> list[SignalInfo]:
    """A bank's signals in id order after ``after_id`` (for paging), optionally of one type,
    live ones only by default."""
    with db.session() as session:
        target = _bank(session, bank)
        query = select(BankSignal).where(BankSignal.bank_id == target.id, BankSignal.id > after_id)
        if signal_type is not None:
            query = query.where(BankSignal.type == get_signal_type(signal_type).name)
        if live_only:
            query = query.where(BankSignal.live)
        rows = session.scalars(query.order_by(BankSignal.id).limit(limit))
        return [
            SignalInfo(
                s.id,
                target.name,
                s.entry_id,
                s.type,
                s.value,
                s.quality,
                s.live,
                s.quarantined_at is not None,
                s.created_at,
            )
            for s in rows
        ]
