"""Backfill: hash a platform's whole archive into the ledger, then match it against every bank.

    >>> from shieldwall.matching.backfill import backfill, walk_directory   # doctest: +SKIP
    >>> report = backfill(db, walk_directory(Path("/srv/uploads")))          # doctest: +SKIP
    >>> report.recorded, report.skipped, report.failures[:1]                  # doctest: +SKIP
    (99998, 0, [Failure('a/broken.jpg', 'a/broken.jpg: cannot decode ...')])

The archive is a directory tree (content id: the path under the root, so that the ledger does
not depend on where the archive is mounted) or a listing file of content ids and paths or URLs
(:func:`read_listing`); URLs are fetched through the SSRF-safe client
(:func:`shieldwall.net.fetch_to_file`: ``SHIELDWALL_FETCH_ALLOWED_HOSTS`` ...).

- **Batches that a kill cannot leave half-done.** Items are hashed in batches and each batch's
  results are written in one transaction: a killed run leaves whole batches or nothing.
- **Resumable.** Each item is recorded with the stamp of its source (a file's size and
  modification time, or its URL); run again, the backfill skips the items whose content id and
  stamp the ledger holds, and hashes the rest (a file changed since is hashed again).
- **Failures go on.** A corrupt or missing file, a refused URL, a malformed listing line is a
  :class:`Failure` with its reason; the rest of the batch goes on.
- **Then matched.** :func:`match_new_items` looks up every ledger item recorded since its
  checkpoint (a ledger id, kept in ``sweep_state``) in the banks' index, as an upload is, and
  stores each block-bank match (``source = "sweep"``); allow banks suppress, flood protection
  applies. The direction matters at archive scale: N new items cost N index lookups, where a
  sweep of every bank signal over the ledger would cost banks x ledger comparisons.

Hashing runs here on ``workers`` processes (:func:`hash_locally`) or on a Ray cluster
(:mod:`shieldwall.matching.backfill_ray`); both give the same ledger.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from threadpoolctl import threadpool_limits

from shieldwall.banks import BankKind
from shieldwall.config import Settings, get_settings
from shieldwall.errors import ShieldwallError
from shieldwall.hashing import hash_file, ledger_signals, sniff_content_type
from shieldwall.matching._matcher import Matcher, MatchOutcome
from shieldwall.matching.ledger import ledger_kept, record_stamped
from shieldwall.media import IMAGE_EXTENSIONS
from shieldwall.media.video import VIDEO_EXTENSIONS
from shieldwall.net import fetch_to_file
from shieldwall.signals import Signal
from shieldwall.store import Database, LedgerItem, LedgerSignal, SweepState

__all__ = [
    "ArchiveItem",
    "BackfillReport",
    "Failure",
    "HashedItem",
    "Hasher",
    "MatchReport",
    "backfill",
    "hash_locally",
    "match_new_items",
    "read_listing",
    "walk_directory",
]

#: Items hashed and written per transaction.
BATCH_SIZE = 256
#: The ``sweep_state`` row of the last ledger id matched against the banks.
CHECKPOINT = "backfill"
_MEDIA_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS


@dataclass(frozen=True, slots=True)
class ArchiveItem:
    """One item of an archive: the platform's content id and where its bytes are (a file path
    or a URL). ``stamp`` identifies the source as hashed (``None``: the file is missing);
    ``problem`` is set for an item that cannot even be tried (a malformed listing line)."""

    content_id: str
    location: str
    stamp: str | None = None
    problem: str | None = None

    @property
    def is_url(self) -> bool:
        """Whether the item is fetched (anything with a scheme: the fetch refuses what is not
        http or https)."""
        return "://" in self.location


@dataclass(frozen=True, slots=True)
class HashedItem:
    """The ledger signals of one item (as JSON-ready ``(type, value, quality)``), or why it
    could not be hashed."""

    content_id: str
    stamp: str | None
    signals: tuple[tuple[str, str, int | None], ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """An item left out, and why."""

    content_id: str
    reason: str


@dataclass(slots=True)
class MatchReport:
    """What :func:`match_new_items` looked at and found."""

    items_checked: int = 0
    #: Content id -> the banks and entries it matched (block banks).
    matches: dict[str, list[str]] = field(default_factory=dict)
    suppressed: list[str] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)


@dataclass(slots=True)
class BackfillReport:
    """What a backfill did."""

    total: int = 0
    recorded: int = 0
    #: Already in the ledger with the same stamp (a resumed run).
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    matched: MatchReport | None = None

    @property
    def rate(self) -> float:
        """Items hashed (recorded or failed) per second."""
        done = self.recorded + len(self.failures)
        return done / self.seconds if self.seconds > 0 else 0.0


def file_stamp(path: Path) -> str | None:
    """``"file:<size>:<mtime ns>"`` of ``path``, or ``None`` when it cannot be read."""
    try:
        info = path.stat()
    except OSError:
        return None
    return f"file:{info.st_size}:{info.st_mtime_ns}"


def walk_directory(root: Path) -> Iterator[ArchiveItem]:
    """Every image and video file under ``root`` (recursively, in sorted order), its content
    id the path relative to ``root`` (``/``-separated)."""
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in _MEDIA_EXTENSIONS and path.is_file():
            yield ArchiveItem(path.relative_to(root).as_posix(), str(path), file_stamp(path))


def read_listing(listing: Path) -> Iterator[ArchiveItem]:
    """The items of a listing file, one a line: ``content_id<TAB>path or URL``, or a JSON
    object ``{"content_id": ..., "path": ...}`` (or ``"url"``). A relative path is taken from
    the listing's folder; blank lines and lines starting with ``#`` are skipped. A line that
    cannot be read is an item with its ``problem`` (reported as a failure; the rest go on)."""
    try:
        handle = listing.open(encoding="utf-8")
    except OSError as exc:
        from shieldwall.errors import UsageError  # noqa: PLC0415 (the one error raised here)

        raise UsageError(f"{listing}: cannot read: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            content_id, location = _parse_line(line)
            if not content_id or not location:
                yield ArchiveItem(
                    f"{listing.name}:{number}",
                    "",
                    problem=f"{listing}:{number}: not 'content_id<TAB>path or URL' nor a JSON "
                    'object with "content_id" and "path" or "url"',
                )
                continue
            if "://" in location:
                yield ArchiveItem(content_id, location, f"url:{location}")
                continue
            path = Path(location)
            if not path.is_absolute():
                path = listing.parent / path
            yield ArchiveItem(content_id, str(path), file_stamp(path))


def _parse_line(line: str) -> tuple[str, str]:
    if line.lstrip().startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return "", ""
        if not isinstance(obj, dict):
            return "", ""
        cid, location = obj.get("content_id"), obj.get("path") or obj.get("url")
        if not isinstance(cid, str) or not isinstance(location, str):
            return "", ""
        return cid, location
    cid, _tab, location = line.partition("\t")
    return cid.strip(), location.strip()


class Hasher:
    """Hashes archive items into ledger signals: built once per process (or Ray actor), it
    holds the settings and the signal types, and compiles the hashing code on a tiny
    generated photo so that the first real item does not pay for it."""

    def __init__(self, settings: Settings | None = None) -> None:
        from shieldwall.media import synthetic  # noqa: PLC0415 (a warm-up picture only)

        self.settings = settings or get_settings()
        self.names = ledger_signals()
        with tempfile.TemporaryDirectory(prefix="shieldwall-warm-") as folder:
            warm = Path(folder) / "warm.png"
            warm.write_bytes(synthetic.encode(synthetic.scene(0, 64, 64), "PNG"))
            hash_file(warm, self.names, settings=self.settings)

    def hash(self, item: ArchiveItem) -> HashedItem:
        """The ledger signals of ``item``, or the reason it has none; never raises for bad
        content."""
        if item.problem is not None:
            return HashedItem(item.content_id, item.stamp, error=item.problem)
        if not item.is_url:
            if item.stamp is None:  # could not be stat'ed when listed
                return HashedItem(item.content_id, None, error=f"{item.location}: no such file")
            return self._hash_path(item, Path(item.location))
        with tempfile.TemporaryDirectory(prefix="shieldwall-fetch-") as folder:
            path = Path(folder) / "content"
            try:
                fetch_to_file(item.location, path, settings=self.settings)
            except ShieldwallError as exc:
                return HashedItem(item.content_id, item.stamp, error=exc.message)
            return self._hash_path(item, path, sniff=True)

    def _hash_path(self, item: ArchiveItem, path: Path, *, sniff: bool = False) -> HashedItem:
        result = hash_file(
            path,
            self.names,
            settings=self.settings,
            source=item.content_id,
            content_type=sniff_content_type(path) if sniff else None,
        )
        if result.error is not None:
            reason = result.error.message.removeprefix(f"{item.content_id}: ")
            return HashedItem(item.content_id, item.stamp, error=reason)
        signals = tuple((s.type, s.value, s.quality) for s in result.signals.values())
        return HashedItem(item.content_id, item.stamp, signals)


_process_hasher: Hasher | None = None


def _start_worker(settings: Settings) -> None:
    global _process_hasher  # noqa: PLW0603 - one hasher per worker process
    threadpool_limits(1)  # each worker has a core to itself
    _process_hasher = Hasher(settings)


def _hash_in_worker(item: ArchiveItem) -> HashedItem:
    assert _process_hasher is not None
    return _process_hasher.hash(item)


#: Hashes batches of items and gives each batch's results (in any order within a batch).
HashEngine = Callable[[Iterable[list[ArchiveItem]]], Iterator[list[HashedItem]]]


def hash_locally(workers: int = 1, settings: Settings | None = None) -> HashEngine:
    """The local engine: ``workers`` processes (0: one per core), each with its
    :class:`Hasher`; 1 hashes in this process."""
    settings = settings or get_settings()
    count = workers or os.cpu_count() or 1

    def run(batches: Iterable[list[ArchiveItem]]) -> Iterator[list[HashedItem]]:
        if count == 1:
            hasher = Hasher(settings)
            for batch in batches:
                yield [hasher.hash(item) for item in batch]
            return
        with ProcessPoolExecutor(
            max_workers=count, initializer=_start_worker, initargs=(settings,)
        ) as pool:
            for batch in batches:
                chunk = max(1, len(batch) // (4 * count))
                yield list(pool.map(_hash_in_worker, batch, chunksize=chunk))

    return run


def _pending(
    db: Database,
    items: Iterable[ArchiveItem],
    report: BackfillReport,
    batch_size: int,
    progress: Callable[[int], None] | None,
) -> Iterator[list[ArchiveItem]]:
    """Batches of the items not yet in the ledger with the same stamp."""
    iterator = iter(items)
    while chunk := list(islice(iterator, batch_size)):
        report.total += len(chunk)
        ids = [i.content_id for i in chunk if i.stamp is not None]
        known: dict[str, str | None] = {}
        if ids:
            with db.session() as session:
                for k in range(0, len(ids), 500):
                    rows = session.execute(
                        select(LedgerItem.content_id, LedgerItem.source_stamp).where(
                            LedgerItem.content_id.in_(ids[k : k + 500])
                        )
                    )
                    known.update((cid, stamp) for cid, stamp in rows)
        todo = [i for i in chunk if i.stamp is None or known.get(i.content_id) != i.stamp]
        report.skipped += len(chunk) - len(todo)
        if progress is not None and len(chunk) > len(todo):
            progress(len(chunk) - len(todo))
        if todo:
            yield todo


def write_batch(db: Database, results: Sequence[HashedItem]) -> tuple[int, list[Failure]]:
    """Record the hashed items of one batch in one transaction; returns how many were
    recorded and the failures (those not hashed, and those whose signals were refused)."""
    ready: dict[str, dict[str, Signal]] = {}
    stamps: dict[str, str | None] = {}
    failures: list[Failure] = []
    for result in results:
        if result.error is not None:
            failures.append(Failure(result.content_id, result.error))
            continue
        try:
            ready[result.content_id] = ledger_kept(Signal(*s) for s in result.signals)
        except ShieldwallError as exc:
            failures.append(Failure(result.content_id, exc.message))
            continue
        stamps[result.content_id] = result.stamp
    if ready:
        with db.transaction() as session:
            record_stamped(session, ready, stamps)
    return len(ready), failures


def backfill(
    db: Database,
    items: Iterable[ArchiveItem],
    *,
    engine: HashEngine | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
) -> BackfillReport:
    """Hash ``items`` into the ledger (see the module): skip those already recorded with the
    same stamp, hash the rest with ``engine`` (default: this process), write each batch in one
    transaction. ``progress`` is called with the number of items each batch finished (skipped
    ones included); ``on_failure`` with each failure as it happens. Does not match: call
    :func:`match_new_items` after it."""
    started = time.perf_counter()
    report = BackfillReport()
    engine = engine or hash_locally(1)
    for results in engine(_pending(db, items, report, batch_size, progress)):
        recorded, failures = write_batch(db, results)
        report.recorded += recorded
        report.failures.extend(failures)
        if on_failure is not None:
            for failure in failures:
                on_failure(failure)
        if progress is not None:
            progress(len(results))
    report.seconds = time.perf_counter() - started
    return report


def match_new_items(
    db: Database,
    *,
    settings: Settings | None = None,
    matcher: Matcher | None = None,
    chunk: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> MatchReport:
    """Match every ledger item recorded since the last call (by ledger id: a backfill
    records a changed item afresh, under a new id) against every enabled bank, and store each
    block-bank match (``source = "sweep"``). Allow banks suppress; flood protection applies.
    The checkpoint moves after each chunk, so a killed run goes on from the last chunk."""
    settings = settings or get_settings()
    report = MatchReport()
    with db.session() as session:
        state = session.get(SweepState, CHECKPOINT)
        last = 0 if state is None else state.last_seq
    while True:
        with db.session() as session:
            items = session.execute(
                select(LedgerItem.id, LedgerItem.content_id)
                .where(LedgerItem.id > last)
                .order_by(LedgerItem.id)
                .limit(chunk)
            ).all()
            if not items:
                return report
            signals: dict[int, list[Signal]] = {}
            rows = session.execute(
                select(LedgerSignal.item_id, LedgerSignal.type, LedgerSignal.value).where(
                    LedgerSignal.item_id >= items[0][0], LedgerSignal.item_id <= items[-1][0]
                )
            )
            for item_id, kind, value in rows:
                signals.setdefault(item_id, []).append(Signal(kind, value))
        if matcher is None:
            matcher = Matcher(db, settings=settings)
        matcher.refresh()
        for item_id, content_id in items:
            hits = matcher.find(signals.get(item_id, []))
            if any(h.bank_kind is BankKind.ALLOW for h in hits):
                report.suppressed.append(content_id)
                continue
            block = [h for h in hits if h.bank_kind is BankKind.BLOCK]
            stored = matcher.record(MatchOutcome(content_id), block, source="sweep")
            if stored.matches:
                report.matches[content_id] = sorted(
                    {f"{m.bank} entry {m.entry_id}" for m in stored.matches}
                )
            report.quarantined.extend(stored.quarantined)
        last = int(items[-1][0])
        report.items_checked += len(items)
        with db.transaction() as session:
            state = session.get(SweepState, CHECKPOINT)
            if state is None:
                session.add(SweepState(name=CHECKPOINT, last_seq=last))
            elif state.last_seq < last:
                state.last_seq = last
        if progress is not None:
            progress(len(items))
