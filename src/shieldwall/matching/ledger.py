"""The ledger of hosted content, and the retroactive sweep over it.

A platform records the signals of every content it hosts (its content id and hashes, never the
media). When a signal enters a block bank, :func:`sweep` finds the ledger items within the
bank's threshold and stores them as matches (``source = "sweep"``): the "known identical
copies" a platform must find and remove.

The ledger keeps every type that declares :attr:`~shieldwall.signals.SignalType.in_ledger`
(an exact or Hamming type kept inline: PDQ, MD5, SHA-256, or a plug-in's), one
``ledger_signal`` row per item and type. The sweep reads the signal log from its checkpoint, so
it looks only at signals added since the last sweep; for each Hamming type it streams the
ledger's codes of that type in chunks and compares them with NumPy (XOR and popcount), and it
looks exact digests up in the database's index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from shieldwall.banks import BankKind, EntryStatus
from shieldwall.config import Settings, get_settings
from shieldwall.matching._matcher import BankMatch, Matcher, MatchOutcome
from shieldwall.matching.index import pdq_codes
from shieldwall.signals import IndexKind, Signal, get_signal_type
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    Base,
    Database,
    LedgerItem,
    LedgerSignal,
    SignalLogRecord,
    SweepState,
    signal_log,
    utcnow,
)
from shieldwall.store.bulk import insert_rows

__all__ = [
    "LedgerPartition",
    "PartitionHit",
    "PartitionRunner",
    "SweepOutcome",
    "SweepTarget",
    "add_to_ledger",
    "ledger_kept",
    "ledger_partitions",
    "record_stamped",
    "scan_locally",
    "scan_partition",
    "sweep",
]

SWEEP_NAME = "ledger"
#: Ledger rows read per query during a sweep.
SWEEP_CHUNK = 200_000


def add_to_ledger(
    db: Database,
    items: Iterable[tuple[str, Sequence[Signal]]],
    *,
    chunk_size: int = 5000,
) -> int:
    """Record ``(content id, signals)`` pairs; a content id seen before gets its signals
    replaced. Signals are validated (:class:`~shieldwall.errors.MalformedSignal` ...) before
    anything of their chunk is written; signals below their type's quality floor are left out
    (they never match), and so are types the ledger does not keep (a video's frame set: a
    video is recorded by its exact hashes). Each chunk is one transaction, new items inserted in
    bulk. Returns how many items were recorded."""
    count = 0
    iterator = iter(items)
    while chunk := list(islice(iterator, chunk_size)):
        ready: dict[str, dict[str, Signal]] = {}
        for content_id, signals in chunk:
            ready[content_id] = ledger_kept(signals)  # a later pair for the same id wins
        with db.transaction() as session:
            _record_chunk(session, ready)
        count += len(chunk)
    return count


def ledger_kept(signals: Iterable[Signal]) -> dict[str, Signal]:
    """The signals the ledger keeps of ``signals``, by type: validated (raises
    :class:`~shieldwall.errors.MalformedSignal` ...), those below their type's quality floor
    and the types the ledger does not keep left out."""
    clean: dict[str, Signal] = {}
    for s in signals:
        kind = get_signal_type(s.type)
        if not kind.in_ledger:
            continue
        signal = kind.parse(s.value, s.quality)
        if kind.is_usable(signal):
            clean[signal.type] = signal
    return clean


def record_stamped(
    session: Session, ready: dict[str, dict[str, Signal]], stamps: dict[str, str | None]
) -> None:
    """Record ``ready`` (content id -> kept signals, see :func:`ledger_kept`) in the session's
    transaction with each item's source stamp (a backfill's). A content id seen before is
    recorded afresh, under a new id: a backfill's sweep checkpoint (a ledger id) then sees it
    as new."""
    _record_chunk(session, ready, stamps)


def _record_chunk(
    session: Session,
    ready: dict[str, dict[str, Signal]],
    stamps: dict[str, str | None] | None = None,
) -> None:
    ids = list(ready)
    known: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(LedgerItem.content_id, LedgerItem.id).where(
                LedgerItem.content_id.in_(ids[i : i + 500])
            )
        )
        for cid, item_id in rows:
            known[cid] = item_id
    now = utcnow()
    ids_after = 0
    if known and stamps is not None:
        old = list(known.values())
        ids_after = max(old)
        for i in range(0, len(old), 500):
            session.execute(delete(LedgerSignal).where(LedgerSignal.item_id.in_(old[i : i + 500])))
            session.execute(delete(LedgerItem).where(LedgerItem.id.in_(old[i : i + 500])))
        known.clear()
    if known:
        old = list(known.values())
        for i in range(0, len(old), 500):
            session.execute(delete(LedgerSignal).where(LedgerSignal.item_id.in_(old[i : i + 500])))
        table = Base.metadata.tables["ledger_item"]
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("item_id"))
            .values(seen_at=bindparam("new_seen_at")),
            [{"item_id": item_id, "new_seen_at": now} for item_id in known.values()],
        )
    fresh = [cid for cid in ids if cid not in known]
    if fresh:
        new_ids = insert_rows(
            session,
            LedgerItem,
            [
                {"content_id": cid, "seen_at": now, "source_stamp": (stamps or {}).get(cid)}
                for cid in fresh
            ],
            returning_ids=True,
            ids_after=ids_after,
        )
        known.update(zip(fresh, new_ids, strict=True))
    signal_rows = [
        {"item_id": known[cid], "type": s.type, "value": s.value}
        for cid in ids
        for s in ready[cid].values()
    ]
    insert_rows(session, LedgerSignal, signal_rows)


@dataclass(slots=True)
class SweepOutcome:
    """What a sweep looked at and found."""

    from_seq: int
    to_seq: int
    #: Block-bank signals compared with the ledger.
    signals_checked: int = 0
    #: Ledger codes of Hamming types (PDQ) compared.
    ledger_scanned: int = 0
    #: Content id -> the block matches stored for it.
    matches: dict[str, list[BankMatch]] = field(default_factory=dict)
    #: Content ids whose matches an allow bank suppressed.
    suppressed: list[str] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SweepTarget:
    """A block-bank signal a sweep looks for in the ledger, with its bank's threshold."""

    signal_id: int
    entry_id: int
    bank: str
    signal_type: str
    value: str
    threshold: int


def _targets(session: Session, after: int, upto: int, full: bool) -> list[SweepTarget]:
    now = utcnow()
    query = (
        select(BankSignal, BankEntry, Bank)
        .join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .join(Bank, Bank.id == BankSignal.bank_id)
        .where(
            Bank.kind == BankKind.BLOCK.value,
            Bank.enabled,
            BankSignal.live,
            BankSignal.quarantined_at.is_(None),
            BankEntry.status != EntryStatus.WITHDRAWN.value,
        )
        .order_by(BankSignal.id)
    )
    if not full:
        added = select(SignalLogRecord.signal_id).where(
            SignalLogRecord.seq > after, SignalLogRecord.seq <= upto, SignalLogRecord.op == "add"
        )
        query = query.where(BankSignal.id.in_(added))
    out = []
    for signal, entry, bank in session.execute(query):
        if entry.status == EntryStatus.DISABLED and (
            entry.disabled_until is None or entry.disabled_until > now
        ):
            continue
        kind = get_signal_type(signal.type)
        out.append(
            SweepTarget(
                signal.id,
                entry.id,
                bank.name,
                kind.name,
                signal.value,
                bank.thresholds.get(kind.name, kind.default_threshold),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class LedgerPartition:
    """The ledger rows of one Hamming type whose ``ledger_signal`` ids lie in
    ``first_id..last_id`` (inclusive): a sweep's unit of work, which any process that reaches
    the database can scan (a Ray task on another node)."""

    signal_type: str
    first_id: int
    last_id: int


#: One hit of a partition scan: ``(ledger item id, index of the target, distance)``.
PartitionHit = tuple[int, int, int]
#: Scans partitions and gives each one's ``(hits, rows scanned)``, in any order: in turn in
#: this process (:func:`scan_locally`), or across a Ray cluster
#: (:func:`shieldwall.matching.backfill_ray.scan_on_ray`).
PartitionRunner = Callable[
    [Database, Sequence[LedgerPartition], Sequence[SweepTarget], int],
    Iterable[tuple[list[PartitionHit], int]],
]


def ledger_partitions(db: Database, signal_type: str, parts: int) -> list[LedgerPartition]:
    """Split the ledger's rows of ``signal_type`` into ``parts`` ranges of ids of about equal
    width (ids are dense when rows are only added, so of about equal row counts); none when
    the ledger holds no such row."""
    with db.session() as session:
        low, high = session.execute(
            select(func.min(LedgerSignal.id), func.max(LedgerSignal.id)).where(
                LedgerSignal.type == signal_type
            )
        ).one()
    if low is None:
        return []
    parts = max(1, parts)
    width = -(-(int(high) - int(low) + 1) // parts)
    return [
        LedgerPartition(signal_type, first, min(int(high), first + width - 1))
        for first in range(int(low), int(high) + 1, width)
    ]


def scan_partition(
    db: Database,
    partition: LedgerPartition,
    targets: Sequence[SweepTarget],
    chunk_rows: int = SWEEP_CHUNK,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[PartitionHit], int]:
    """Stream the ledger codes of ``partition`` in id order, ``chunk_rows`` per query, and
    return every ``(item id, target index, distance)`` within the target's threshold, with
    the number of rows scanned. Memory is one chunk, whatever the partition's size."""
    queries = pdq_codes([t.value for t in targets])
    limits = np.array([t.threshold for t in targets], dtype=np.int64)
    hits: list[PartitionHit] = []
    scanned = 0
    last_id = partition.first_id - 1
    # Compare a block of ledger codes with every target at once, bounding the temporary
    # (rows x targets x 4 words of 8 bytes) to about 32 MiB.
    block = max(1, (1 << 20) // max(1, len(targets)))
    while True:
        with db.session() as session:
            rows = session.execute(
                select(LedgerSignal.id, LedgerSignal.item_id, LedgerSignal.value)
                .where(
                    LedgerSignal.type == partition.signal_type,
                    LedgerSignal.id > last_id,
                    LedgerSignal.id <= partition.last_id,
                )
                .order_by(LedgerSignal.id)
                .limit(chunk_rows)
            ).all()
        if not rows:
            return hits, scanned
        last_id = rows[-1][0]
        item_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        codes = pdq_codes([r[2] for r in rows])
        for start in range(0, len(rows), block):
            part = codes[start : start + block]
            distances = np.bitwise_count(part[:, None, :] ^ queries[None, :, :]).sum(
                axis=2, dtype=np.int64
            )
            hit_rows, hit_targets = np.nonzero(distances <= limits[None, :])
            for r, t in zip(hit_rows.tolist(), hit_targets.tolist(), strict=True):
                hits.append((int(item_ids[start + r]), t, int(distances[r, t])))
        scanned += len(rows)
        if progress is not None:
            progress(len(rows))


def scan_locally(
    db: Database,
    partitions: Sequence[LedgerPartition],
    targets: Sequence[SweepTarget],
    chunk_rows: int,
) -> Iterator[tuple[list[PartitionHit], int]]:
    """The default :data:`PartitionRunner`: each partition in turn, in this process."""
    for partition in partitions:
        yield scan_partition(db, partition, targets, chunk_rows)


def _scan_hamming(  # noqa: PLR0917 - private, called once
    db: Database,
    signal_type: str,
    targets: list[SweepTarget],
    found: dict[int, list[tuple[SweepTarget, int]]],
    chunk_rows: int,
    progress: Callable[[int], None] | None,
    partitions: int,
    runner: PartitionRunner | None,
) -> int:
    """Scan the ledger's codes of the Hamming type ``signal_type`` and add every (item,
    target, distance) within threshold."""
    parts = ledger_partitions(db, signal_type, partitions)
    scanned = 0
    if runner is None:
        # One process: stream the partitions in turn, with progress per chunk.
        results: Iterable[tuple[list[PartitionHit], int]] = (
            scan_partition(db, p, targets, chunk_rows, progress) for p in parts
        )
    else:
        results = runner(db, parts, targets, chunk_rows)
    for hits, rows in results:
        for item, t, distance in hits:
            found.setdefault(item, []).append((targets[t], distance))
        scanned += rows
        if runner is not None and progress is not None:
            progress(rows)
    return scanned


def sweep(
    db: Database,
    *,
    settings: Settings | None = None,
    full: bool = False,
    matcher: Matcher | None = None,
    chunk_rows: int = SWEEP_CHUNK,
    progress: Callable[[int], None] | None = None,
    partitions: int = 1,
    runner: PartitionRunner | None = None,
) -> SweepOutcome:
    """Find the ledger items that match block-bank signals added since the last sweep (every
    live block signal with ``full``), store them as matches, and move the checkpoint.

    Allow banks suppress as they do for uploads, and flood protection applies: a new signal
    that matches more than ``flood_max_contents`` hosted items is quarantined for review
    instead of matching them all. Running it again finds nothing new; a sweep that crashed is
    simply run again (stored matches are never duplicated).

    The ledger is scanned in ``partitions`` ranges of ids (:func:`ledger_partitions`), by
    ``runner`` (default: in turn, here); the partitions' hits are then stored here, so a
    runner that spreads them over machines (Ray) finds exactly what one process finds.
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    with db.session() as session:
        state = session.get(SweepState, SWEEP_NAME)
        after = 0 if full or state is None else state.last_seq
        upto = signal_log.head(session)
        targets = _targets(session, after, upto, full)
    outcome = SweepOutcome(after, upto, signals_checked=len(targets))
    found: dict[int, list[tuple[SweepTarget, int]]] = {}
    by_index: dict[IndexKind, list[SweepTarget]] = {}
    for t in targets:
        by_index.setdefault(get_signal_type(t.signal_type).index, []).append(t)
    hamming = by_index.get(IndexKind.HAMMING, [])
    for signal_type in sorted({t.signal_type for t in hamming}):
        of_type = [t for t in hamming if t.signal_type == signal_type]
        outcome.ledger_scanned += _scan_hamming(
            db, signal_type, of_type, found, chunk_rows, progress, partitions, runner
        )
    # A video's frame set is not swept: the ledger keeps only the exact hashes of videos.
    exact = by_index.get(IndexKind.EXACT, [])
    with db.session() as session:
        for i in range(0, len(exact), 500):
            part = exact[i : i + 500]
            by_key = {(t.signal_type, t.value): t for t in part}
            rows = session.execute(
                select(LedgerSignal.item_id, LedgerSignal.type, LedgerSignal.value).where(
                    LedgerSignal.type.in_({t.signal_type for t in part}),
                    LedgerSignal.value.in_([t.value for t in part]),
                )
            )
            for item_id, signal_type, value in rows:
                target = by_key.get((signal_type, value))
                if target is not None:
                    found.setdefault(item_id, []).append((target, 0))
    if found:
        matcher = matcher or Matcher(db, settings=settings)
        matcher.refresh()
        _store(db, matcher, found, outcome)
    with db.transaction() as session:
        state = session.get(SweepState, SWEEP_NAME)
        if state is None:
            session.add(SweepState(name=SWEEP_NAME, last_seq=upto))
        elif state.last_seq < upto:
            state.last_seq = upto
    outcome.seconds = time.perf_counter() - started
    return outcome


def _store(
    db: Database,
    matcher: Matcher,
    found: dict[int, list[tuple[SweepTarget, int]]],
    outcome: SweepOutcome,
) -> None:
    ids = list(found)
    with db.session() as session:
        items: dict[int, str] = {}
        item_signals: dict[int, list[Signal]] = {}
        for item in session.scalars(select(LedgerItem).where(LedgerItem.id.in_(ids))):
            items[item.id] = item.content_id
        for row in session.scalars(select(LedgerSignal).where(LedgerSignal.item_id.in_(ids))):
            item_signals.setdefault(row.item_id, []).append(Signal(row.type, row.value))
    for item_id in sorted(found):
        content_id = items.get(item_id)
        if content_id is None:
            continue  # removed from the ledger meanwhile
        hits = matcher.find(item_signals.get(item_id, []))
        if any(m.bank_kind is BankKind.ALLOW for m in hits):
            outcome.suppressed.append(content_id)
            continue
        best: dict[int, BankMatch] = {}
        for target, distance in found[item_id]:
            if target.signal_id not in best or distance < best[target.signal_id].distance:
                best[target.signal_id] = BankMatch(
                    target.bank,
                    BankKind.BLOCK,
                    target.entry_id,
                    target.signal_id,
                    target.signal_type,
                    distance,
                )
        stored = matcher.record(MatchOutcome(content_id), list(best.values()), source="sweep")
        if stored.matches:
            outcome.matches[content_id] = stored.matches
        outcome.quarantined.extend(stored.quarantined)
