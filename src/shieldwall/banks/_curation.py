"""Bank curation: create and configure banks, add entries, withdraw cases.

Every change of a bank's signals is written to the signal log in the same transaction, so the
log (which every index follows) and the banks never disagree.

    >>> db = Database("sqlite:///shieldwall.db")                          # doctest: +SKIP
    >>> create_bank(db, "ncii", BankKind.BLOCK)                           # doctest: +SKIP
    >>> add_entry(db, "ncii", [parse_signal_string("pdq:f8f8...")],       # doctest: +SKIP
    ...           external_ids=["case-1"], provenance=Provenance.VICTIM)
    >>> withdraw(db, "case-1")                                            # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from itertools import islice

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from shieldwall.banks._model import (
    AddOutcome,
    BankInfo,
    BankKind,
    EntryInfo,
    EntryStatus,
    NewEntry,
    Provenance,
    Rejected,
    WithdrawOutcome,
)
from shieldwall.errors import (
    Conflict,
    MalformedSignal,
    NotFound,
    ShieldwallError,
    UsageError,
)
from shieldwall.signals.base import Signal
from shieldwall.signals.registry import get_signal_type
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    Database,
    EntryExternalId,
    signal_log,
    utcnow,
)
from shieldwall.store.signal_log import LogOp

__all__ = [
    "add_entries",
    "add_entry",
    "create_bank",
    "delete_bank",
    "disable_entry",
    "enable_entry",
    "get_bank",
    "get_entry",
    "list_banks",
    "parse_signal_string",
    "prepare_signal",
    "set_bank_enabled",
    "set_bank_threshold",
    "withdraw",
    "withdraw_cases",
    "withdraw_entry",
]

_BANK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
#: Entries per transaction in bulk adds: a crash loses at most the chunk in flight.
CHUNK_SIZE = 500


# -- signals ---------------------------------------------------------------------------------


def prepare_signal(signal_type: str, value: str, quality: int | None = None) -> Signal:
    """A validated signal ready to bank, or the error saying why not.

    Raises :class:`~shieldwall.errors.UnknownSignalType`, :class:`MalformedSignal` (bad length,
    not hex, quality out of 0..100) or :class:`~shieldwall.errors.LowQualitySignal` (PDQ quality
    below the floor).
    """
    kind = get_signal_type(signal_type)
    if quality is not None and not 0 <= quality <= 100:
        raise MalformedSignal(f"{kind.name} quality must be 0..100, got {quality}")
    if quality is not None and kind.quality_floor is None:
        quality = None
    return kind.require_usable(kind.parse(value, quality))


def parse_signal_string(text: str) -> Signal:
    """Read ``TYPE:VALUE`` or ``TYPE:VALUE:QUALITY`` (ours), or ``TYPE VALUE`` (the one-per-line
    form python-threatexchange prints), and validate it with :func:`prepare_signal`."""
    text = text.strip()
    parts = text.split(":") if ":" in text else text.split()
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise MalformedSignal(
            f"{text!r} is not a signal: write TYPE:VALUE (e.g. pdq:<64 hex digits>) "
            "or TYPE:VALUE:QUALITY"
        )
    quality: int | None = None
    if len(parts) == 3:
        try:
            quality = int(parts[2])
        except ValueError:
            raise MalformedSignal(f"{text!r}: quality {parts[2]!r} is not a number") from None
    return prepare_signal(parts[0], parts[1], quality)


# -- banks -----------------------------------------------------------------------------------


def _info(bank: Bank, session: Session | None = None) -> BankInfo:
    counts: dict[str, int] = {}
    live: int | None = None
    if session is not None:
        rows = session.execute(
            select(BankEntry.status, func.count())
            .where(BankEntry.bank_id == bank.id)
            .group_by(BankEntry.status)
        )
        counts = {str(status): int(n) for status, n in rows}
        live = int(
            session.scalar(
                select(func.count()).where(BankSignal.bank_id == bank.id, BankSignal.live)
            )
            or 0
        )
    return BankInfo(
        id=bank.id,
        name=bank.name,
        kind=BankKind(bank.kind),
        enabled=bank.enabled,
        thresholds=dict(bank.thresholds),
        description=bank.description,
        source=bank.source,
        created_at=bank.created_at,
        entry_counts=counts,
        live_signals=live,
    )


def _bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound(f"no bank named {name!r}")
    return bank


def _check_threshold(signal_type: str, threshold: int) -> None:
    get_signal_type(signal_type)
    if not 0 <= threshold <= 256:
        raise UsageError(f"threshold for {signal_type} must be 0..256, got {threshold}")


def create_bank(
    db: Database,
    name: str,
    kind: BankKind | str,
    *,
    thresholds: dict[str, int] | None = None,
    description: str = "",
    source: str | None = None,
    enabled: bool = True,
) -> BankInfo:
    """Create a bank. ``thresholds`` maps signal types to the largest matching distance (PDQ
    default 31). A name already in use is a :class:`~shieldwall.errors.Conflict`."""
    if not _BANK_NAME.fullmatch(name):
        raise UsageError(
            f"bank name {name!r} must be 1-200 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    try:
        bank_kind = BankKind(kind)
    except ValueError:
        raise UsageError(
            f"bank kind {kind!r} is not one of {', '.join(k.value for k in BankKind)}"
        ) from None
    for signal_type, value in (thresholds or {}).items():
        _check_threshold(signal_type, value)
    with db.transaction() as session:
        if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
            raise Conflict(f"a bank named {name!r} already exists")
        bank = Bank(
            name=name,
            kind=bank_kind.value,
            enabled=enabled,
            thresholds={get_signal_type(k).name: v for k, v in (thresholds or {}).items()},
            description=description,
            source=source,
        )
        session.add(bank)
        session.flush()
        return _info(bank, session)


def list_banks(db: Database) -> list[BankInfo]:
    """Every bank, by name, with its entry counts."""
    with db.session() as session:
        return [_info(b, session) for b in session.scalars(select(Bank).order_by(Bank.name))]


def get_bank(db: Database, name: str) -> BankInfo:
    """One bank with its entry counts; :class:`~shieldwall.errors.NotFound` when absent."""
    with db.session() as session:
        return _info(_bank(session, name), session)


def set_bank_enabled(db: Database, name: str, enabled: bool) -> BankInfo:
    """Enable or disable a bank; a disabled bank's entries match nothing."""
    with db.transaction() as session:
        bank = _bank(session, name)
        bank.enabled = enabled
        session.flush()
        return _info(bank, session)


def set_bank_threshold(
    db: Database, name: str, signal_type: str, threshold: int | None
) -> BankInfo:
    """Set the bank's threshold for ``signal_type``; ``None`` goes back to the type's default."""
    canonical = get_signal_type(signal_type).name
    if threshold is not None:
        _check_threshold(canonical, threshold)
    with db.transaction() as session:
        bank = _bank(session, name)
        thresholds = dict(bank.thresholds)
        if threshold is None:
            thresholds.pop(canonical, None)
        else:
            thresholds[canonical] = threshold
        bank.thresholds = thresholds
        session.flush()
        return _info(bank, session)


def delete_bank(db: Database, name: str) -> int:
    """Delete a bank and its entries; its live signals are tombstoned in the log first.

    Stored matches stay (they keep the bank's name). Returns how many signals were removed.
    """
    with db.transaction() as session:
        bank = _bank(session, name)
        live = list(
            session.scalars(
                select(BankSignal)
                .where(BankSignal.bank_id == bank.id, BankSignal.live)
                .order_by(BankSignal.id)
            )
        )
        signal_log.append(session, LogOp.REMOVE, live)
        session.delete(bank)
        return len(live)


# -- entries ---------------------------------------------------------------------------------


def _entry_info(session: Session, entry: BankEntry, bank_name: str | None = None) -> EntryInfo:
    if bank_name is None:
        bank_name = session.scalar(select(Bank.name).where(Bank.id == entry.bank_id)) or ""
    signals = [
        Signal(s.type, s.value, s.quality)
        for s in session.scalars(
            select(BankSignal).where(BankSignal.entry_id == entry.id).order_by(BankSignal.id)
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
    keys = [(s.type, s.value) for s in new.signals]
    existing = {
        (s.type, s.value): s
        for s in session.scalars(
            select(BankSignal).where(
                BankSignal.bank_id == bank.id,
                tuple_(BankSignal.type, BankSignal.value).in_(keys),
            )
        )
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
    fresh = [
        BankSignal(
            bank_id=bank.id,
            entry_id=entry.id,
            type=s.type,
            value=s.value,
            quality=s.quality,
            live=live,
        )
        for s in new.signals
        if (s.type, s.value) not in existing
    ]
    session.add_all(fresh)
    session.flush()
    if live:
        signal_log.append(session, LogOp.ADD, fresh)
    _sync_signals(session, entry)
    return entry.id, created


def _existing_keys(
    session: Session, bank: Bank, keys: list[tuple[str, str]]
) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for i in range(0, len(keys), 400):
        part = keys[i : i + 400]
        rows = session.execute(
            select(BankSignal.type, BankSignal.value).where(
                BankSignal.bank_id == bank.id,
                tuple_(BankSignal.type, BankSignal.value).in_(part),
            )
        )
        found.update((t, v) for t, v in rows)
    return found


def _apply_chunk(session: Session, bank: Bank, ready: list[NewEntry], outcome: AddOutcome) -> None:
    """Add a chunk: items new to the bank are inserted in bulk (one statement per table), the
    rest (merges, duplicates within the chunk, withdrawal records) one by one after them."""
    existing = _existing_keys(session, bank, [(s.type, s.value) for n in ready for s in n.signals])
    fresh: list[NewEntry] = []
    later: list[NewEntry] = []
    seen: set[tuple[str, str]] = set(existing)
    for new in ready:
        keys = {(s.type, s.value) for s in new.signals}
        if keys & seen or (new.withdrawn_ids and not new.external_ids):
            later.append(new)
        else:
            fresh.append(new)
        seen |= keys
    if fresh:
        now = utcnow()
        entry_ids = list(
            session.scalars(
                insert(BankEntry).returning(BankEntry.id, sort_by_parameter_order=True),
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
            )
        )
        holders: list[dict[str, object]] = []
        signals: list[dict[str, object]] = []
        for entry_id, new in zip(entry_ids, fresh, strict=True):
            for external_id in dict.fromkeys(new.external_ids):
                holders.append(
                    {
                        "entry_id": entry_id,
                        "external_id": external_id,
                        "status": "active",
                        "added_at": now,
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
                    "value": s.value,
                    "quality": s.quality,
                    "live": True,
                    "created_at": now,
                }
                for s in new.signals
            )
        if holders:
            session.execute(insert(EntryExternalId), holders)
        signal_ids = list(
            session.scalars(
                insert(BankSignal).returning(BankSignal.id, sort_by_parameter_order=True), signals
            )
        )
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
    keys = list({(s.type, s.value) for n in items for s in n.signals})
    owner: dict[tuple[str, str], int] = {}
    for i in range(0, len(keys), 400):
        rows = session.execute(
            select(BankSignal.type, BankSignal.value, BankSignal.entry_id).where(
                BankSignal.bank_id == bank.id,
                tuple_(BankSignal.type, BankSignal.value).in_(keys[i : i + 400]),
            )
        )
        owner.update({(t, v): e for t, v, e in rows})
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
        owners = {owner.get((s.type, s.value), -1) for s in new.signals}
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
            touched.update(owner.get((s.type, s.value), -1) for s in new.signals)
    return out


def _validate(new: NewEntry) -> NewEntry:
    if not new.signals:
        raise MalformedSignal("no usable signal to add")
    signals = [prepare_signal(s.type, s.value, s.quality) for s in new.signals]
    for external_id in [*new.external_ids, *new.withdrawn_ids]:
        if not external_id or len(external_id) > 200 or external_id != external_id.strip():
            raise UsageError(f"external id {external_id!r} must be 1-200 characters, no padding")
    return NewEntry(
        signals=list({(s.type, s.value): s for s in signals}.values()),
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
) -> AddOutcome:
    """Add many items to ``bank``, ``chunk_size`` per transaction.

    An item whose signals are invalid (or a :class:`Rejected` passed through from a parser) is
    listed in :attr:`AddOutcome.rejected` and the rest go on. Each chunk commits whole or not at
    all: a crash leaves complete entries and a signal log that matches them. Adding an item
    whose signal is already in the bank merges into the existing entry (new external ids are
    attached; nothing is duplicated). ``progress`` is called with the count of items handled.
    """
    outcome = AddOutcome()
    with db.session() as session:
        _bank(session, bank)  # NotFound before any work
    iterator = iter(entries)
    while chunk := list(islice(iterator, chunk_size)):
        ready: list[NewEntry] = []
        for item in chunk:
            if isinstance(item, Rejected):
                outcome.rejected.append(item)
                continue
            try:
                ready.append(_validate(item))
            except ShieldwallError as exc:
                outcome.rejected.append(Rejected(item.source, exc.message, exc.code))
        if ready:
            with db.transaction() as session:
                _apply_chunk(session, _bank(session, bank), ready, outcome)
        if progress is not None:
            progress(len(chunk))
    return outcome


def add_entry(
    db: Database,
    bank: str,
    signals: Sequence[Signal],
    *,
    external_ids: Sequence[str] = (),
    note: str = "",
    provenance: Provenance | str = Provenance.REVIEWER,
) -> EntryInfo:
    """Add one item (its signals) to ``bank`` and return the entry, new or merged into.

    Invalid input raises (:class:`MalformedSignal`, :class:`~shieldwall.errors.LowQualitySignal`,
    ...) and writes nothing.
    """
    new = _validate(
        NewEntry(
            signals=list(signals),
            external_ids=list(external_ids),
            note=note,
            provenance=Provenance(provenance),
        )
    )
    with db.transaction() as session:
        target = _bank(session, bank)
        entry_id, _ = _apply(session, target, new)
        entry = session.get(BankEntry, entry_id)
        assert entry is not None
        return _entry_info(session, entry, target.name)


def get_entry(db: Database, entry_id: int) -> EntryInfo:
    """One entry; :class:`~shieldwall.errors.NotFound` when absent."""
    with db.session() as session:
        return _entry_info(session, _entry(session, entry_id))


def _entry(session: Session, entry_id: int) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound(f"no bank entry with id {entry_id}")
    return entry


def _withdraw(session: Session, external_id: str, bank: str | None) -> WithdrawOutcome:
    query = (
        select(EntryExternalId, BankEntry)
        .join(BankEntry, BankEntry.id == EntryExternalId.entry_id)
        .where(EntryExternalId.external_id == external_id)
        .order_by(BankEntry.id)
    )
    if bank is not None:
        query = query.where(BankEntry.bank_id == _bank(session, bank).id)
    rows = list(session.execute(query))
    if not rows:
        where = f" in bank {bank!r}" if bank is not None else ""
        raise NotFound(f"no bank entry is held by external id {external_id!r}{where}")
    withdrawn: list[int] = []
    kept: list[int] = []
    now = utcnow()
    for holder, entry in rows:
        if holder.status == "active":
            holder.status, holder.withdrawn_at = "withdrawn", now
        session.flush()
        _settle_status(session, entry)
        _sync_signals(session, entry)
        (withdrawn if entry.status == EntryStatus.WITHDRAWN else kept).append(entry.id)
    return WithdrawOutcome(external_id, withdrawn, kept)


def withdraw(db: Database, external_id: str, *, bank: str | None = None) -> WithdrawOutcome:
    """Withdraw an external id (a case) from every entry it holds (in ``bank``, if given).

    An entry that another active case still holds keeps its signals; an entry whose last case
    this was is withdrawn and its signals are tombstoned. An id no entry holds is
    :class:`~shieldwall.errors.NotFound`; withdrawing the same id twice is harmless.
    """
    return withdraw_cases(db, [external_id], bank=bank)[0]


def withdraw_cases(
    db: Database, external_ids: Sequence[str], *, bank: str | None = None
) -> list[WithdrawOutcome]:
    """Withdraw several external ids in one transaction: all of them, or (when one is unknown,
    :class:`~shieldwall.errors.NotFound`) none."""
    with db.transaction() as session:
        return [_withdraw(session, external_id, bank) for external_id in external_ids]


def withdraw_entry(db: Database, entry_id: int) -> EntryInfo:
    """Withdraw one entry whatever its cases (a reviewer's decision); its signals are removed."""
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        now = utcnow()
        for holder in session.scalars(
            select(EntryExternalId).where(
                EntryExternalId.entry_id == entry.id, EntryExternalId.status == "active"
            )
        ):
            holder.status, holder.withdrawn_at = "withdrawn", now
        entry.status = EntryStatus.WITHDRAWN.value
        entry.disabled_until = None
        session.flush()
        _sync_signals(session, entry)
        return _entry_info(session, entry)


def disable_entry(db: Database, entry_id: int, until: datetime | None = None) -> EntryInfo:
    """Stop an entry matching until ``until`` (aware datetime), or until enabled again."""
    if until is not None and until.tzinfo is None:
        raise UsageError("the time an entry is disabled until must have a timezone")
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.status == EntryStatus.WITHDRAWN:
            raise Conflict(f"bank entry {entry_id} is withdrawn: add it again to use it")
        entry.status = EntryStatus.DISABLED.value
        entry.disabled_until = until
        session.flush()
        return _entry_info(session, entry)


def enable_entry(db: Database, entry_id: int) -> EntryInfo:
    """Let a disabled entry match again."""
    with db.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.status == EntryStatus.WITHDRAWN:
            raise Conflict(f"bank entry {entry_id} is withdrawn: add it again to use it")
        entry.status = EntryStatus.ACTIVE.value
        entry.disabled_until = None
        session.flush()
        return _entry_info(session, entry)
