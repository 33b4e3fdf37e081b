"""Matching: content -> signals -> candidates in enabled banks -> allow-bank suppression ->
stored matches, with flood protection.

    >>> matcher = Matcher(db)                                       # doctest: +SKIP
    >>> outcome = matcher.match_file("upload-123.jpg")              # doctest: +SKIP
    >>> [(m.bank, m.entry_id, m.signal_type) for m in outcome.matches]  # doctest: +SKIP
    [('ncii', 7, 'pdq')]

The index only proposes candidates; every candidate is checked before it counts (signal live
and not quarantined, bank enabled, entry active or its disable time passed, distance within the
bank's own threshold), from memory: a signal's bank, entry and variant never change and are
read once per process, the rest follows the database at each refresh (the signal log for
withdrawals, the few quarantined signals and disabled entries through partial indexes), so a
lookup that matches waits on the database no more than one that does not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from shieldwall.banks import BankKind, EntryStatus
from shieldwall.config import Settings, get_settings
from shieldwall.errors import ShieldwallError
from shieldwall.hashing import hash_file, sniff_content_type
from shieldwall.index.memory import release_memory
from shieldwall.matching.features import FeatureSignals
from shieldwall.matching.index import (
    FOLLOW_BATCH,
    IndexFactory,
    SignalIndexLike,
    apply_entries,
    build_index,
    default_index,
    load_index,
    snapshot_path,
)
from shieldwall.matching.video import VideoSignals
from shieldwall.signals import (
    Comparison,
    ContentType,
    IndexKind,
    Signal,
    SignalType,
    VariantOptions,
    bankable_types,
    get_signal_type,
)
from shieldwall.signals.local_features import FeatureMatch
from shieldwall.signals.vpdq import VideoMatch, parse_vpdq
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    Database,
    MatchRecord,
    close_databases,
    open_database,
    signal_log,
    utcnow,
)

__all__ = ["BankMatch", "MatchOutcome", "Matcher", "prepare_snapshot"]


@dataclass(frozen=True, slots=True)
class BankMatch:
    """One bank signal that a content matched."""

    bank: str
    bank_kind: BankKind
    entry_id: int
    signal_id: int
    signal_type: str
    distance: int
    #: The query-side variant that matched (``"original"``, or a dihedral name such as
    #: ``"flipx"``).
    variant: str = "original"
    #: For a ``vpdq`` match: both shares of frames matched and both sides' matched time
    #: ranges. (``distance`` is then the share of the query's frames that did not match, in %.)
    video: VideoMatch | None = None
    #: The bank-side variant matched (a crop of the banked photo, ``crop-top-10``), or
    #: ``None`` for the banked signal itself.
    bank_variant: str | None = None
    #: For a local-feature match (``orb``): how the keypoints line up (inliers, the share of
    #: the banked photo they cover, scale, rotation). ``distance`` is then ``100 - inliers``.
    features: FeatureMatch | None = None

    @property
    def through_variant(self) -> bool:
        """Whether the match went through a variant on either side (never exact evidence: it
        raises a case for a person, never an automated removal)."""
        return self.variant != "original" or self.bank_variant is not None

    def public(self) -> dict[str, object]:
        """What may be shown to an uploader or an untrusted caller: bank, entry id, signal
        type, the variants it went through (when not the content as given), and for a video's
        frames both shares and both sides' matched time ranges (seconds). Never the distance
        (it helps evasion)."""
        obj: dict[str, object] = {
            "bank": self.bank,
            "entry_id": self.entry_id,
            "signal_type": self.signal_type,
        }
        if self.variant != "original":
            obj["variant"] = self.variant
        if self.bank_variant is not None:
            obj["bank_variant"] = self.bank_variant
        if self.video is not None:
            obj["query_share"] = round(self.video.query_share, 3)
            obj["bank_share"] = round(self.video.compared_share, 3)
            obj["query_ranges"] = [[round(a, 3), round(b, 3)] for a, b in self.video.query_ranges]
            obj["bank_ranges"] = [[round(a, 3), round(b, 3)] for a, b in self.video.compared_ranges]
        return obj


@dataclass(slots=True)
class MatchOutcome:
    """The result of matching one content.

    ``matches`` are the block and review matches that count (and were stored, when recording);
    ``allowed_by`` the allow-bank matches, which suppress everything else (then in
    ``suppressed``); ``quarantined`` the bank signals flood protection just quarantined;
    ``error`` why the content could not be matched (raise it to answer with it).
    """

    content_id: str
    matches: list[BankMatch] = field(default_factory=list)
    allowed_by: list[BankMatch] = field(default_factory=list)
    suppressed: list[BankMatch] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    error: ShieldwallError | None = None
    #: Query-side variants that could not be made, with the reason (never an error).
    skipped_variants: dict[str, str] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        """Whether anything counts as a match."""
        return bool(self.matches)

    @property
    def error_message(self) -> str | None:
        """What kept the content from being matched, for a person (``None`` when matched)."""
        return self.error.message if self.error is not None else None


#: A candidate: distance, signal type, variant, and the frame-set match of a video or the
#: local-feature match of a photo.
_Candidate = tuple[int, str, str, VideoMatch | FeatureMatch | None]


def _unmatched(video: VideoMatch) -> int:
    """A frame-set match's distance: the share of the query's frames not matched, in %."""
    return 100 - round(100 * video.query_share)


def _better(known: _Candidate | None, distance: int, variant: str) -> bool:
    """Whether a candidate beats the one ``known`` for the same bank signal: the content as
    given beats any variant (it is the stronger evidence, and a bank may refuse variants),
    then the smaller distance."""
    if known is None:
        return True
    return (variant != "original", distance) < (known[2] != "original", known[0])


@dataclass(frozen=True, slots=True)
class _SignalFacts:
    """What never changes about a bank signal once written: its bank, entry and bank-side
    variant (so a matcher may keep them, and verify a candidate without the database)."""

    bank_id: int
    entry_id: int
    variant: str | None


_DISABLED = text(f"bank_entry.status = '{EntryStatus.DISABLED.value}'")

#: A refresh that applied this many log entries returns the freed memory of their rows.
RELEASE_AFTER_APPLIED = 10_000

#: Signals whose facts a matcher keeps (about 200 bytes each); past it the oldest half goes.
FACTS_CACHE_SIZE = 100_000


@dataclass(frozen=True, slots=True)
class _BankRule:
    name: str
    kind: BankKind
    thresholds: dict[str, int]
    match_variants: bool = True
    local_features: bool = False


def _compact_through_snapshot(
    db: Database, index: SignalIndexLike, path: Path
) -> tuple[SignalIndexLike, bool]:
    """An index just built from the database, saved at ``path`` at once and read back from it.

    A built index holds the same arrays as a loaded one, but building leaves the process about
    100 MB larger at 1M hashes (the rows read, freed into a heap the allocator keeps); reading
    the snapshot back and dropping the built index gives the smaller process, and the next
    worker to start finds the snapshot instead of building again. Returns the index to use and
    whether it came from the snapshot (not, when it could not be saved: the built one then)."""
    save = getattr(index, "save", None)
    if save is None:
        return index, False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save(path)
        reloaded, loaded = load_index(db, path)
    except (OSError, ShieldwallError):
        return index, False
    if not loaded:
        return index, False
    del index
    release_memory()
    return reloaded, True


def prepare_snapshot(settings: Settings) -> None:
    """Bring this database's index snapshot in ``data_dir`` up to date (build and save it, or
    load it, follow the log and save it when it moved): what ``serve --workers N`` runs in a
    process of its own before starting the workers, which then load it."""
    db = open_database(settings)
    try:
        Matcher.open(db, settings=settings, refresh_interval=float("inf")).checkpoint()
    finally:
        close_databases()


class Matcher:
    """Matches content against every enabled bank, following the signal log.

    One matcher per process: it builds its index once, then :meth:`refresh` (called by every
    match) applies only the log entries written since. ``index`` lets a caller bring its own
    (a loaded snapshot, another implementation).
    """

    def __init__(
        self,
        db: Database,
        *,
        settings: Settings | None = None,
        index: SignalIndexLike | None = None,
        index_factory: IndexFactory = default_index,
        refresh_interval: float = 0.0,
    ) -> None:
        self.db = db
        #: :meth:`match` follows the log at most this often (seconds); 0: before every match.
        self.refresh_interval = refresh_interval
        self._refreshed_at = float("-inf")
        self.settings = settings or get_settings()
        self.index = index if index is not None else build_index(db, index_factory)
        #: Banked videos (frame sets): read from the database at start (it is
        #: not in the snapshot), then following the log with the rest of the index.
        self.video = VideoSignals.build(db, quality_floor=self.settings.video_frame_quality_floor)
        #: Banked photos' local features (banks that opted in), likewise.
        self.features = FeatureSignals.build(db)
        self.snapshot: Path | None = None
        self._saved_seq = -1
        self._rules: dict[int, _BankRule] = {}
        self._radius: dict[str, int] = {}
        #: What can change about banked signals without a log entry, read at each refresh:
        #: the quarantined signals, and the disabled entries with the time they are disabled
        #: until. (Withdrawn entries' signals leave the index through the log.)
        self._quarantined: frozenset[int] = frozenset()
        self._disabled: dict[int, datetime | None] = {}
        self._facts: dict[int, _SignalFacts] = {}
        self.refresh()

    @classmethod
    def open(
        cls, db: Database, *, settings: Settings | None = None, refresh_interval: float = 0.0
    ) -> Matcher:
        """A matcher whose index starts from this database's snapshot file in ``data_dir``
        (plus the log tail), or is built and then saved there. Call :meth:`checkpoint` before
        exiting to keep the snapshot fresh."""
        settings = settings or get_settings()
        path = snapshot_path(db, settings.data_dir)
        index, loaded = load_index(db, path)
        if not loaded:
            index, loaded = _compact_through_snapshot(db, index, path)
        matcher = cls(db, settings=settings, index=index, refresh_interval=refresh_interval)
        matcher.snapshot = path
        matcher._saved_seq = index.seq if loaded else -1
        return matcher

    def checkpoint(self, min_changes: int = 1000) -> bool:
        """Save the index snapshot when it moved ``min_changes`` log entries past the saved one
        (or was never saved). Returns whether it wrote one."""
        save = getattr(self.index, "save", None)
        if self.snapshot is None or save is None:
            return False
        if self._saved_seq >= 0 and self.index.seq - self._saved_seq < min_changes:
            return False
        self.snapshot.parent.mkdir(parents=True, exist_ok=True)
        if self.db.keyring is not None:  # snapshots sealed at rest (docs/security.md)
            save(self.snapshot, keyring=self.db.keyring)
        else:
            save(self.snapshot)
        self._saved_seq = self.index.seq
        return True

    def refresh(self) -> int:
        """Apply the log entries written since the last call and re-read the bank settings;
        returns how many entries were applied."""
        applied = 0
        self._refreshed_at = time.monotonic()
        with self.db.session() as session:
            while True:  # the log tail and the bank settings, read in one session
                start = min(self.index.seq, self.video.seq, self.features.seq)
                entries = signal_log.read_after(session, start, FOLLOW_BATCH)
                applied += apply_entries(self.index, entries)
                applied += self.video.apply(session, entries)
                applied += self.features.apply(session, entries)
                if len(entries) < FOLLOW_BATCH:
                    break
            banks = session.scalars(select(Bank).where(Bank.enabled))
            self._rules = {
                b.id: _BankRule(
                    b.name, BankKind(b.kind), dict(b.thresholds), b.match_variants, b.local_features
                )
                for b in banks
            }
            # Both are few rows, found through partial indexes (migration 0021).
            self._quarantined = frozenset(
                session.scalars(select(BankSignal.id).where(BankSignal.quarantined_at.is_not(None)))
            )
            # A literal, not a bound parameter: SQLite uses a partial index only when the
            # query's condition is the index's own.
            disabled = session.execute(
                select(BankEntry.id, BankEntry.disabled_until).where(_DISABLED)
            )
            self._disabled = {int(entry_id): until for entry_id, until in disabled}
        radius: dict[str, int] = {}
        for rule in self._rules.values():
            for kind in bankable_types():
                limit = rule.thresholds.get(kind.name, self._default_threshold(kind))
                radius[kind.name] = max(radius.get(kind.name, 0), limit)
        self._radius = radius
        if applied >= RELEASE_AFTER_APPLIED:
            release_memory()  # the rows read are freed; give their pages back (cheap, rare)
        return applied

    def _default_threshold(self, kind: SignalType) -> int:
        """A bank's threshold for ``kind`` when it sets none. For a frame set it is the share
        of the query's frames allowed to go unmatched, in %, from the settings."""
        if kind.comparison is Comparison.FRAME_SET:
            return 100 - round(100 * self.settings.video_match_query_share)
        return kind.default_threshold

    # -- finding -------------------------------------------------------------------------

    def _candidates(
        self, signals: Iterable[Signal], variants: Mapping[str, Signal]
    ) -> dict[int, list[_Candidate]]:
        """signal id -> candidates (distance, signal type, variant, video or feature match),
        in the order :meth:`_verify` tries them: the best per id, and for a frame set the
        match on the frames as given before the match through their variants."""
        best: dict[int, _Candidate] = {}
        queries = [("original", s) for s in signals] + list(variants.items())
        #: Per indexed type: each distinct value once, under the first variant that gave it.
        batches: dict[str, dict[str, str]] = {}
        #: Per frame-set type: the frames as given and each variant's frames, by name.
        frame_sets: dict[str, dict[str, str]] = {}
        for variant, signal in queries:
            kind = get_signal_type(signal.type)
            if kind.bankable and kind.index is IndexKind.FRAMES:
                # Each frame counts on its own (the index skips those below the floor): a
                # letterboxed video's frames may be too flat as given and fine trimmed.
                frame_sets.setdefault(kind.name, {}).setdefault(variant, signal.value)
                continue
            if not kind.bankable or not kind.is_usable(signal):
                continue  # no bank holds this type, or below the quality floor: never matched
            if kind.index is IndexKind.LOCAL:
                radius = self._radius.get(kind.name, kind.default_threshold)
                for signal_id, lined_up in self.features.search(
                    signal.value, min_inliers=max(1, 100 - radius)
                ):
                    if _better(best.get(signal_id), lined_up.distance, variant):
                        best[signal_id] = (lined_up.distance, kind.name, variant, lined_up)
                continue
            batches.setdefault(kind.name, {}).setdefault(signal.value, variant)
        for name, named in batches.items():
            radius = self._radius.get(name, get_signal_type(name).default_threshold)
            found = self.index.search_many(name, list(named), radius)
            for variant, hits in zip(named.values(), found, strict=True):
                for hit in hits:
                    if _better(best.get(hit.id), hit.distance, variant):
                        best[hit.id] = (hit.distance, name, variant, None)
        out = {signal_id: [candidate] for signal_id, candidate in best.items()}
        for name, named in frame_sets.items():
            out.update(self._frame_candidates(get_signal_type(name), named))
        return out

    def _frame_candidates(
        self, kind: SignalType, named: dict[str, str]
    ) -> dict[int, list[_Candidate]]:
        """Banked videos that a video's frames match (``named``: the frames as given under
        ``original`` and each query-side variant's frames), by the loosest bank's share:
        the match as given first, then the one through the variants (a frame counts when any
        of its variants matched)."""
        radius = self._radius.get(kind.name, self._default_threshold(kind))
        given = named.get("original")
        found = self.video.search_variants(
            parse_vpdq(given) if given is not None else [],
            {v: parse_vpdq(text) for v, text in named.items() if v != "original"},
            frame_threshold=self.settings.video_frame_distance,
            query_threshold=(100 - radius) / 100,  # each bank then checks its own
            compared_threshold=self.settings.video_match_bank_share,
        )
        out: dict[int, list[_Candidate]] = {}
        for m in found:
            tries: list[_Candidate] = []
            if m.original is not None:
                tries.append((_unmatched(m.original), kind.name, "original", m.original))
            if m.through_variants is not None:
                tries.append(
                    (_unmatched(m.through_variants), kind.name, m.variant, m.through_variants)
                )
            out[m.video_id] = tries
        return out

    def _signal_facts(self, ids: Iterable[int]) -> dict[int, _SignalFacts]:
        """The facts of these signals: from memory, the ones not seen yet read once (a signal
        matched for the first time in this process; most lookups match nothing and most
        matches repeat a banked item)."""
        facts = self._facts
        missing = [i for i in ids if i not in facts]
        if missing:
            if len(facts) + len(missing) > FACTS_CACHE_SIZE:
                for old in list(facts)[: len(facts) // 2]:
                    del facts[old]
            with self.db.session() as session:
                for i in range(0, len(missing), 500):
                    rows = session.execute(
                        select(
                            BankSignal.id,
                            BankSignal.bank_id,
                            BankSignal.entry_id,
                            BankSignal.variant,
                        ).where(BankSignal.id.in_(missing[i : i + 500]))
                    )
                    for signal_id, bank_id, entry_id, variant in rows:
                        facts[signal_id] = _SignalFacts(bank_id, entry_id, variant)
        return {i: facts[i] for i in ids if i in facts}

    def _verify(self, found: dict[int, list[_Candidate]], now: datetime) -> list[BankMatch]:
        """The candidates that count, checked from memory: the bank enabled (its rule), the
        signal in the index (live: a withdrawal's log entry removes it) and not quarantined,
        the entry not disabled (or its disable time passed), the distance within the bank's
        own threshold and its choice of variants."""
        if not found:
            return []
        out: list[BankMatch] = []
        for signal_id, signal in sorted(self._signal_facts(found).items()):
            rule = self._rules.get(signal.bank_id)
            if rule is None or signal_id in self._quarantined:
                continue
            if signal.entry_id in self._disabled:
                until = self._disabled[signal.entry_id]
                if until is None or until > now:
                    continue
            for distance, signal_type, variant, detail in found[signal_id]:
                if not rule.match_variants and (variant != "original" or signal.variant):
                    continue  # this bank counts its signals as given only
                kind = get_signal_type(signal_type)
                limit = rule.thresholds.get(kind.name, self._default_threshold(kind))
                if distance > limit:
                    continue
                out.append(
                    BankMatch(
                        rule.name,
                        rule.kind,
                        signal.entry_id,
                        signal_id,
                        signal_type,
                        distance,
                        variant,
                        detail if isinstance(detail, VideoMatch) else None,
                        signal.variant,
                        detail if isinstance(detail, FeatureMatch) else None,
                    )
                )
                break  # the first candidate that counts: the frames as given before variants
        # One match per bank entry and signal type: its signal as given before a bank-side
        # variant, the content as given before a query-side variant, then the nearest.
        best: dict[tuple[str, int, str], BankMatch] = {}
        for m in out:
            key = (m.bank, m.entry_id, m.signal_type)
            rank = (m.bank_variant is not None, m.variant != "original", m.distance)
            held = best.get(key)
            if held is None or rank < (
                held.bank_variant is not None,
                held.variant != "original",
                held.distance,
            ):
                best[key] = m
        return sorted(best.values(), key=lambda m: (m.bank, m.entry_id, m.signal_type))

    def find(
        self, signals: Iterable[Signal], *, variants: Mapping[str, Signal] | None = None
    ) -> list[BankMatch]:
        """Every bank signal the given signals match now (allow banks included), storing
        nothing. ``variants`` are extra query signals by name (dihedral PDQ variants)."""
        found = self._candidates(signals, variants or {})
        if not found:  # most content matches nothing
            return []
        return self._verify(found, utcnow())

    # -- matching ------------------------------------------------------------------------

    def match(
        self,
        content_id: str,
        signals: Iterable[Signal],
        *,
        variants: Mapping[str, Signal] | None = None,
        record: bool = True,
    ) -> MatchOutcome:
        """Match one content's signals: find, apply allow-bank suppression and flood
        protection, and (with ``record``) store each match."""
        if time.monotonic() - self._refreshed_at >= self.refresh_interval:
            self.refresh()
        hits = self.find(signals, variants=variants)
        outcome = MatchOutcome(content_id)
        allowed = [h for h in hits if h.bank_kind is BankKind.ALLOW]
        counted = [h for h in hits if h.bank_kind is not BankKind.ALLOW]
        if allowed:
            outcome.allowed_by, outcome.suppressed = allowed, counted
            return outcome
        if not record:
            outcome.matches = counted
            return outcome
        return self.record(outcome, counted, source="upload")

    def record(self, outcome: MatchOutcome, hits: Sequence[BankMatch], source: str) -> MatchOutcome:
        """Store ``hits`` as matches of ``outcome.content_id`` (``source``: ``upload`` or
        ``sweep``) with flood protection; a pair stored before is not stored twice."""
        if not hits:
            return outcome
        try:
            return self._record(outcome, hits, source)
        except IntegrityError:
            # Another matcher stored the same (content, signal) pair at the same moment
            # (PostgreSQL with several writers): run again, it is now found and not re-stored.
            outcome.matches.clear()
            outcome.quarantined.clear()
            return self._record(outcome, hits, source)

    def _record(
        self, outcome: MatchOutcome, hits: Sequence[BankMatch], source: str
    ) -> MatchOutcome:
        now = utcnow()
        window = timedelta(seconds=self.settings.flood_window_seconds)
        limit = self.settings.flood_max_contents
        with self.db.transaction() as session:
            for hit in hits:
                signal = session.get(BankSignal, hit.signal_id)
                if signal is None or signal.quarantined_at is not None:
                    continue
                known = session.scalar(
                    select(MatchRecord.id).where(
                        MatchRecord.content_id == outcome.content_id,
                        MatchRecord.signal_id == hit.signal_id,
                    )
                )
                if known is None:
                    since = now - window
                    if signal.released_at is not None and signal.released_at > since:
                        since = signal.released_at
                    others = session.scalar(
                        select(func.count(func.distinct(MatchRecord.content_id))).where(
                            MatchRecord.signal_id == hit.signal_id, MatchRecord.at >= since
                        )
                    )
                    if int(others or 0) >= limit:
                        signal.quarantined_at = now
                        outcome.quarantined.append(hit.signal_id)
                        self._quarantined = self._quarantined | {hit.signal_id}
                        continue
                    session.add(
                        MatchRecord(
                            content_id=outcome.content_id,
                            bank_id=signal.bank_id,
                            bank_name=hit.bank,
                            entry_id=hit.entry_id,
                            signal_id=hit.signal_id,
                            signal_type=hit.signal_type,
                            distance=hit.distance,
                            variant=hit.variant,
                            bank_variant=hit.bank_variant,
                            source=source,
                            at=now,
                        )
                    )
                    session.flush()
                outcome.matches.append(hit)
        return outcome

    def match_file(
        self,
        path: str | os.PathLike[str],
        content_id: str | None = None,
        *,
        dihedral: bool | None = None,
        record: bool = True,
        content_type: ContentType | None = None,
        normalise: bool | None = None,
        source: str | None = None,
        local_features: bool | None = None,
    ) -> MatchOutcome:
        """Hash a file on disk and match it (``content_id`` defaults to the path; ``source``
        names the content in error messages, default the path).

        Photos and videos are told apart by their first bytes (the file name does not matter:
        an upload saved to a temporary file works), unless the caller already knows
        (``content_type``: the service sniffed the upload as it saved it). A video is streamed
        from disk by the decoder, hashed at ``video_query_seconds_per_hash`` and matched by its
        frames (each vpdq match carries :attr:`BankMatch.video`), its MD5 and SHA-256, and
        (``normalise``) also by each frame with its borders trimmed; ``dihedral`` and the
        rotation sweep apply to photos only. A photo is read and decoded once, each PDQ computed
        once: the rotations and flips come from the same DCT. A photo is also described by its
        local features when some bank holds them (:meth:`uses_local_features`;
        ``local_features`` false: not). A file that cannot be hashed gives an outcome with
        ``error`` set (size and duration limits included).
        """
        cid = content_id if content_id is not None else str(path)
        if content_type is None:
            content_type = sniff_content_type(Path(path))
        options = self.variant_options(dihedral=dihedral, normalise=normalise)
        result = hash_file(
            path,
            extra_signals=self.extra_signals(local_features),
            settings=self.settings,
            content_type=content_type,
            seconds_per_hash=self.settings.video_query_seconds_per_hash,
            variants=options,
            source=source,
        )
        if not result.ok:
            return MatchOutcome(cid, error=result.error)
        outcome = self.match(cid, result.signals.values(), variants=result.variants, record=record)
        outcome.skipped_variants = result.skipped
        return outcome

    def uses_local_features(self, wanted: bool | None = None) -> bool:
        """Whether a photo looked up now is described by its local features: some bank holds
        them or opted into them, and the lookup (``wanted``) or else ``match_local_features``
        says yes."""
        on = self.settings.match_local_features if wanted is None else wanted
        return on and (
            len(self.features) > 0 or any(r.local_features for r in self._rules.values())
        )

    def extra_signals(self, local_features: bool | None = None) -> tuple[str, ...]:
        """Types to compute beside the defaults for a lookup (where they apply): the
        local-feature types when :meth:`uses_local_features`."""
        if not self.uses_local_features(local_features):
            return ()
        return tuple(sorted(FeatureSignals.types()))

    def variant_options(
        self, *, dihedral: bool | None = None, normalise: bool | None = None
    ) -> VariantOptions:
        """The query-side variants the settings ask for (``match_dihedral``,
        ``match_normalise``, ``match_rotations``); a lookup's own choice overrides the first
        two (``normalise=False`` also drops the rotation sweep)."""
        normal = self.settings.match_normalise if normalise is None else normalise
        return VariantOptions(
            dihedral=self.settings.match_dihedral if dihedral is None else dihedral,
            normalise=normal,
            rotations=tuple(self.settings.match_rotations) if normal else (),
        )
