"""Matching: content -> signals -> candidates in enabled banks -> allow-bank suppression ->
stored matches, with flood protection.

    >>> matcher = Matcher(db)                                       # doctest: +SKIP
    >>> outcome = matcher.match_file("upload-123.jpg")              # doctest: +SKIP
    >>> [(m.bank, m.entry_id, m.signal_type) for m in outcome.matches]  # doctest: +SKIP
    [('ncii', 7, 'pdq')]

The index only proposes candidates; every candidate is checked against the database (signal
live and not quarantined, bank enabled, entry active or its disable time passed, distance within
the bank's own threshold) before it counts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shieldwall.banks import BankKind, EntryStatus
from shieldwall.config import Settings, get_settings
from shieldwall.errors import ShieldwallError
from shieldwall.hashing import hash_file, sniff_content_type
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
from shieldwall.signals.vpdq import VideoMatch, parse_vpdq
from shieldwall.store import (
    Bank,
    BankEntry,
    BankSignal,
    Database,
    MatchRecord,
    signal_log,
    utcnow,
)

__all__ = ["BankMatch", "MatchOutcome", "Matcher"]


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


#: A candidate: distance, signal type, variant, and the frame-set match of a video.
_Candidate = tuple[int, str, str, VideoMatch | None]


def _better(known: _Candidate | None, distance: int, variant: str) -> bool:
    """Whether a candidate beats the one ``known`` for the same bank signal: the content as
    given beats any variant (it is the stronger evidence, and a bank may refuse variants),
    then the smaller distance."""
    if known is None:
        return True
    return (variant != "original", distance) < (known[2] != "original", known[0])


@dataclass(frozen=True, slots=True)
class _BankRule:
    name: str
    kind: BankKind
    thresholds: dict[str, int]
    match_variants: bool = True


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
        self.snapshot: Path | None = None
        self._saved_seq = -1
        self._rules: dict[int, _BankRule] = {}
        self._radius: dict[str, int] = {}
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
                start = min(self.index.seq, self.video.seq)
                entries = signal_log.read_after(session, start, FOLLOW_BATCH)
                applied += apply_entries(self.index, entries)
                applied += self.video.apply(session, entries)
                if len(entries) < FOLLOW_BATCH:
                    break
            banks = session.scalars(select(Bank).where(Bank.enabled))
            self._rules = {
                b.id: _BankRule(b.name, BankKind(b.kind), dict(b.thresholds), b.match_variants)
                for b in banks
            }
        radius: dict[str, int] = {}
        for rule in self._rules.values():
            for kind in bankable_types():
                limit = rule.thresholds.get(kind.name, self._default_threshold(kind))
                radius[kind.name] = max(radius.get(kind.name, 0), limit)
        self._radius = radius
        return applied

    def _default_threshold(self, kind: SignalType) -> int:
        """A bank's threshold for ``kind`` when it sets none. For a frame set it is the share
        of the query's frames allowed to go unmatched, in %, from the settings."""
        if kind.comparison is Comparison.FRAME_SET:
            return 100 - round(100 * self.settings.video_match_query_share)
        return kind.default_threshold

    def _search_frames(self, kind: SignalType, value: str) -> list[tuple[int, VideoMatch]]:
        """Banked videos whose frames ``value`` matches, by the loosest bank's share."""
        radius = self._radius.get(kind.name, self._default_threshold(kind))
        return self.video.search(
            parse_vpdq(value),
            frame_threshold=self.settings.video_frame_distance,
            query_threshold=(100 - radius) / 100,  # each bank then checks its own
            compared_threshold=self.settings.video_match_bank_share,
        )

    # -- finding -------------------------------------------------------------------------

    def _candidates(
        self, signals: Iterable[Signal], variants: Mapping[str, Signal]
    ) -> dict[int, _Candidate]:
        """signal id -> (distance, signal type, variant, video match), best distance per id."""
        best: dict[int, _Candidate] = {}
        queries = [("original", s) for s in signals] + list(variants.items())
        #: Per indexed type: each distinct value once, under the first variant that gave it.
        batches: dict[str, dict[str, str]] = {}
        for variant, signal in queries:
            kind = get_signal_type(signal.type)
            if not kind.bankable or not kind.is_usable(signal):
                continue  # no bank holds this type, or below the quality floor: never matched
            if kind.index is IndexKind.FRAMES:
                for signal_id, video in self._search_frames(kind, signal.value):
                    distance = 100 - round(100 * video.query_share)
                    if _better(best.get(signal_id), distance, variant):
                        best[signal_id] = (distance, kind.name, variant, video)
                continue
            batches.setdefault(kind.name, {}).setdefault(signal.value, variant)
        for name, named in batches.items():
            radius = self._radius.get(name, get_signal_type(name).default_threshold)
            found = self.index.search_many(name, list(named), radius)
            for variant, hits in zip(named.values(), found, strict=True):
                for hit in hits:
                    if _better(best.get(hit.id), hit.distance, variant):
                        best[hit.id] = (hit.distance, name, variant, None)
        return best

    def _verify(
        self, session: Session, found: dict[int, _Candidate], now: datetime
    ) -> list[BankMatch]:
        if not found:
            return []
        rows = session.execute(
            select(BankSignal, BankEntry)
            .join(BankEntry, BankEntry.id == BankSignal.entry_id)
            .where(BankSignal.id.in_(list(found)))
        )
        out: list[BankMatch] = []
        for signal, entry in rows:
            rule = self._rules.get(signal.bank_id)
            if rule is None or not signal.live or signal.quarantined_at is not None:
                continue
            if entry.status == EntryStatus.WITHDRAWN:
                continue
            if entry.status == EntryStatus.DISABLED and (
                entry.disabled_until is None or entry.disabled_until > now
            ):
                continue
            distance, signal_type, variant, video = found[signal.id]
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
                    entry.id,
                    signal.id,
                    signal_type,
                    distance,
                    variant,
                    video,
                    signal.variant,
                )
            )
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
        if not found:  # most content matches nothing: no database round trip
            return []
        with self.db.session() as session:
            return self._verify(session, found, utcnow())

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
    ) -> MatchOutcome:
        """Hash a file on disk and match it (``content_id`` defaults to the path; ``source``
        names the content in error messages, default the path).

        Photos and videos are told apart by their first bytes (the file name does not matter:
        an upload saved to a temporary file works), unless the caller already knows
        (``content_type``: the service sniffed the upload as it saved it). A video is streamed
        from disk by the decoder, hashed at ``video_query_seconds_per_hash`` and matched by its
        frames (each vpdq match carries :attr:`BankMatch.video`), its MD5 and SHA-256;
        ``dihedral`` applies to photos only. A photo is read and decoded once, each PDQ computed
        once: the rotations and flips come from the same DCT. A file that cannot be hashed gives
        an outcome with ``error`` set (size and duration limits included).
        """
        cid = content_id if content_id is not None else str(path)
        if content_type is None:
            content_type = sniff_content_type(Path(path))
        options = self.variant_options(dihedral=dihedral, normalise=normalise)
        result = hash_file(
            path,
            settings=self.settings,
            content_type=content_type,
            seconds_per_hash=self.settings.video_query_seconds_per_hash,
            variants=options if content_type is ContentType.PHOTO else None,
            source=source,
        )
        if not result.ok:
            return MatchOutcome(cid, error=result.error)
        outcome = self.match(cid, result.signals.values(), variants=result.variants, record=record)
        outcome.skipped_variants = result.skipped
        return outcome

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
