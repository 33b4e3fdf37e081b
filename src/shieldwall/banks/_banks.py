"""Banks: create, list, configure and delete them; read and check signal strings."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.banks._model import (
    BankInfo,
    BankKind,
)
from shieldwall.errors import (
    Conflict,
    MalformedSignal,
    NotFound,
    SignalError,
    UnknownSignalType,
    UsageError,
)
from shieldwall.signals import (
    IndexKind,
    Signal,
    Storage,
    all_signal_types,
    bankable_types,
    get_signal_type,
)
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    Database,
    signal_log,
)
from shieldwall.store.signal_log import LogOp

__all__ = [
    "create_bank",
    "delete_bank",
    "get_bank",
    "list_banks",
    "parse_signal_string",
    "prepare_signal",
    "set_bank_enabled",
    "set_bank_threshold",
    "signals_to_bank",
    "stored_value",
]

_BANK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")

# -- signals ---------------------------------------------------------------------------------


def prepare_signal(signal_type: str, value: str, quality: int | None = None) -> Signal:
    """A validated signal ready to bank, or the error saying why not.

    Raises :class:`~shieldwall.errors.UnknownSignalType`, :class:`MalformedSignal` (bad length,
    not hex, quality out of 0..100) or :class:`~shieldwall.errors.LowQualitySignal` (PDQ quality
    below the floor). An alias (``video_md5``) gives the type's own name (``md5``).
    """
    kind = get_signal_type(signal_type)
    if not kind.bankable:
        names = ", ".join(t.name for t in bankable_types())
        raise SignalError(f"{kind.name} signals cannot be banked yet (bankable: {names})")
    if quality is not None and not 0 <= quality <= 100:
        raise MalformedSignal(f"{kind.name} quality must be 0..100, got {quality}")
    if quality is not None and kind.quality_floor is None:
        quality = None
    return kind.require_usable(kind.parse(value, quality))


def stored_value(signal: Signal) -> str:
    """What ``bank_signal.value`` (and the signal log) hold for ``signal``: its value, or the
    :meth:`~shieldwall.signals.SignalType.storage_key` of a value kept in the side table
    (``bank_signal_value``)."""
    return get_signal_type(signal.type).storage_key(signal.value)


def _is_multiline(signal_type: str) -> bool:
    try:
        return get_signal_type(signal_type).storage is Storage.SIDE_TABLE
    except UnknownSignalType:
        return False


def signals_to_bank(bank: BankInfo) -> tuple[str, ...]:
    """Types computed beside the defaults when media is banked into ``bank`` with the image at
    hand: the local-feature types (``orb``) when the bank opted in, else none."""
    if not bank.local_features:
        return ()
    return tuple(t.name for t in all_signal_types() if t.index is IndexKind.LOCAL)


def parse_signal_string(text: str) -> Signal:
    """Read ``TYPE:VALUE`` or ``TYPE:VALUE:QUALITY`` (ours), or ``TYPE VALUE`` (the one-per-line
    form python-threatexchange prints), and validate it with :func:`prepare_signal`.

    A value kept in the side table (a ``vpdq`` frame set in Meta's text form) has its lines
    separated by newlines, or by ``;`` or spaces so that it fits on one line; a vpdq's quality
    is that of its best frame."""
    text = text.strip()
    head, sep, rest = text.partition(":")
    if sep and _is_multiline(head):
        return prepare_signal(head, "\n".join(rest.replace(";", " ").split()))
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
        match_variants=bank.match_variants,
        local_features=bank.local_features,
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
    match_variants: bool = True,
    local_features: bool = False,
    by: str = "system",
) -> BankInfo:
    """Create a bank. ``thresholds`` maps signal types to the largest matching distance (PDQ
    default 31); ``match_variants`` false counts only matches of signals as given (no
    query-side cuts or rotations, no bank-side crops); ``local_features`` makes photos banked
    with the image at hand carry their local features too (:func:`signals_to_bank`). A name
    already in use is a
    :class:`~shieldwall.errors.Conflict`."""
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
            match_variants=match_variants,
            local_features=local_features,
        )
        session.add(bank)
        session.flush()
        details = {"kind": bank_kind.value, "enabled": enabled, "thresholds": bank.thresholds}
        record_event(session, by, "bank.create", f"bank:{name}", details)
        return _info(bank, session)


def list_banks(db: Database) -> list[BankInfo]:
    """Every bank, by name, with its entry counts."""
    with db.session() as session:
        return [_info(b, session) for b in session.scalars(select(Bank).order_by(Bank.name))]


def get_bank(db: Database, name: str) -> BankInfo:
    """One bank with its entry counts; :class:`~shieldwall.errors.NotFound` when absent."""
    with db.session() as session:
        return _info(_bank(session, name), session)


def set_bank_enabled(db: Database, name: str, enabled: bool, *, by: str = "system") -> BankInfo:
    """Enable or disable a bank; a disabled bank's entries match nothing. ``by`` is the actor
    the audit log records (as for every change to a bank)."""
    with db.transaction() as session:
        bank = _bank(session, name)
        bank.enabled = enabled
        session.flush()
        action = "bank.enable" if enabled else "bank.disable"
        record_event(session, by, action, f"bank:{name}", {})
        return _info(bank, session)


def set_bank_threshold(
    db: Database, name: str, signal_type: str, threshold: int | None, *, by: str = "system"
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
        details = {"signal_type": canonical, "threshold": threshold}
        record_event(session, by, "bank.threshold", f"bank:{name}", details)
        return _info(bank, session)


def delete_bank(db: Database, name: str, *, by: str = "system") -> int:
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
        record_event(session, by, "bank.delete", f"bank:{name}", {"signals_removed": len(live)})
        return len(live)
