"""Applying an exchange's records to its bank, in the caller's transaction.

The exchange's own ids holding an entry are external ids named after the exchange:
``<exchange>:<ref>`` (``stopncii:C-1``), or ``<exchange>`` alone when a record names no ref.
A record replaces the state this exchange gave its hashes before and touches nothing else: a
withdrawal withdraws only this exchange's ids, so an entry a reviewer's case also holds keeps
matching (the bank's usual rule, :func:`shieldwall.banks.withdraw`).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from shieldwall.banks import (
    NewEntry,
    Provenance,
    add_entries_in,
    entry_holders_in,
    prepare_signal,
    stored_value,
    withdraw_in,
)
from shieldwall.errors import NotFound, ShieldwallError
from shieldwall.exchange.base import BadRecord, HashRecord, SignalExchange
from shieldwall.signals import Signal

__all__ = ["PageCounts", "apply_records", "holder_id", "is_held_by", "ref_of"]

#: Record-level errors kept per page for the report (the counts have them all).
_KEPT_ERRORS = 20


def holder_id(exchange: str, ref: str | None) -> str:
    """The external id by which exchange ``exchange`` holds an entry for ``ref``."""
    return exchange if ref is None else f"{exchange}:{ref}"


def is_held_by(exchange: str, external_id: str) -> bool:
    """Whether ``external_id`` is one of exchange ``exchange``'s ids."""
    return external_id == exchange or external_id.startswith(f"{exchange}:")


def ref_of(exchange: str, external_id: str) -> str | None:
    """The exchange's own ref inside one of its external ids (``None`` for the bare name)."""
    return None if external_id == exchange else external_id[len(exchange) + 1 :]


@dataclass
class PageCounts:
    """What applying a page did."""

    added: int = 0
    withdrawn: int = 0
    skipped: int = 0
    failed: int = 0
    skipped_types: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def fail(self, source: str, reason: str) -> None:
        self.failed += 1
        if len(self.errors) < _KEPT_ERRORS:
            self.errors.append(f"{source}: {reason}" if source else reason)


@dataclass(frozen=True, slots=True)
class _Mapped:
    record: HashRecord
    signals: list[Signal]


def _map(
    plugin: SignalExchange, records: Sequence[HashRecord | BadRecord], counts: PageCounts
) -> tuple[list[_Mapped], list[HashRecord]]:
    """Our signals for each record; records without any we can bank are skipped (counted by
    the exchange's type name), unreadable ones failed. Tombstones by ref come back apart."""
    mapped: list[_Mapped] = []
    by_ref: list[HashRecord] = []
    for record in records:
        if isinstance(record, BadRecord):
            counts.fail(record.source, record.reason)
            continue
        if not record.signals:
            if record.withdrawn and record.refs:
                by_ref.append(record)
            else:
                counts.fail(record.source, "a record with no hash")
            continue
        signals: list[Signal] = []
        problem: str | None = None
        unknown: list[str] = []
        for remote in record.signals:
            kind = plugin.signal_type(remote.type)
            if kind is None:
                unknown.append(remote.type)
                continue
            try:
                signals.append(prepare_signal(kind.name, remote.value))
            except ShieldwallError as exc:
                problem = exc.message
                break
        if problem is not None:
            counts.fail(record.source, problem)
            continue
        counts.skipped_types.update(unknown)
        if not signals:
            counts.skipped += 1
            continue
        mapped.append(_Mapped(record, signals))
    return mapped, by_ref


def _last_of_each(mapped: list[_Mapped]) -> list[_Mapped]:
    """A page may give one hash twice (changed twice): the later record is its state."""
    last: dict[frozenset[tuple[str, str]], int] = {}
    for i, item in enumerate(mapped):
        if item.record.complete:
            last[frozenset((s.type, s.value) for s in item.signals)] = i
    return [
        item
        for i, item in enumerate(mapped)
        if not item.record.complete or last[frozenset((s.type, s.value) for s in item.signals)] == i
    ]


def apply_records(
    session: Session,
    plugin: SignalExchange,
    bank: str,
    records: Sequence[HashRecord | BadRecord],
) -> PageCounts:
    """Apply one page of ``plugin``'s records to ``bank`` in ``session``'s transaction: adds
    and updates (replacing this exchange's earlier state of each hash), withdrawals (only this
    exchange's ids), tombstones by ref. A record that cannot be used is counted (skipped: no
    signal type we bank; failed: malformed) and the rest go on."""
    name = plugin.name
    counts = PageCounts()
    mapped, by_ref = _map(plugin, records, counts)
    mapped = _last_of_each(mapped)
    held = entry_holders_in(session, bank, [s for m in mapped for s in m.signals])
    entries: list[NewEntry] = []
    kinds: dict[str, bool] = {}  # source -> withdrawn?
    added_here: set[tuple[str, str]] = set()
    for number, item in enumerate(mapped):
        record = item.record
        source = record.source or f"{name} record {number + 1}"
        holders: dict[str, str] = {}
        for s in item.signals:
            found = held.get((s.type, stored_value(s)))
            if found is not None:
                holders = found[1]
                break
        ours = {e for e in holders if is_held_by(name, e)}
        named = {holder_id(name, r) for r in record.refs} or {holder_id(name, None)}
        keys = {(s.type, stored_value(s)) for s in item.signals}
        if record.withdrawn:
            # an add earlier in this page holds the hash too
            held_now = ours | named if keys & added_here else ours
            gone = ours if record.complete else named & held_now  # these refs only
            if gone:
                entries.append(
                    NewEntry(
                        item.signals,
                        withdrawn_ids=sorted(gone),
                        provenance=Provenance.PARTNER,
                        source=source,
                    )
                )
                kinds[source] = True
            else:
                counts.withdrawn += 1  # nothing of ours to remove: already its state
            continue
        added_here |= keys
        stale = sorted(e for e in ours if holders[e] == "active" and e not in named)
        entries.append(
            NewEntry(
                item.signals,
                external_ids=sorted(named),
                withdrawn_ids=stale if record.complete else [],
                note=record.note,
                provenance=Provenance.PARTNER,
                source=source,
            )
        )
        kinds[source] = False
    outcome = add_entries_in(session, bank, entries, by=f"exchange:{name}")
    for rejected in outcome.rejected:
        kinds.pop(rejected.source, None)
        counts.fail(rejected.source, rejected.reason)
    for withdrawn in kinds.values():
        if withdrawn:
            counts.withdrawn += 1
        else:
            counts.added += 1
    for record in by_ref:
        for ref in record.refs:
            # NotFound: never banked here (no fingerprint we match), nothing to remove
            with contextlib.suppress(NotFound):
                withdraw_in(session, holder_id(name, ref), bank, by=f"exchange:{name}")
        counts.withdrawn += 1
    return counts
