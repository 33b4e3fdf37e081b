"""vPDQ: a video as the set of PDQ hashes of its sampled frames (Meta's vpdq), and matching.

String form, as Meta's vpdq writes it (so hashes exchange with HMA and StopNCII partners): one
line per sampled frame, ``frame_number,quality,pdq_hex,timestamp_seconds``, e.g.
``30,100,34ed6639...df54,1.000``.

Matching treats frames as a set, as vpdq does: frames of quality < 50 are ignored; a query frame
matches when some frame of the other video is within 31 bits; the answer gives the share of the
query's frames that matched and the share of the other video's frames that were matched, and the
two are compared with thresholds (80 % / 0 % by default, so that a short clip cut out of a banked
video is found). Bank densely (every frame) and query sparsely (one frame a second): then a
query frame has a near-identical bank frame whatever offset the cut started at.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Final

import numpy as np
import numpy.typing as npt

from shieldwall.errors import LowQualitySignal
from shieldwall.media import Media
from shieldwall.media.video import VideoLimits, sample_frames
from shieldwall.signals.base import (
    Comparison,
    ContentType,
    Exchange,
    Signal,
    SignalType,
    Storage,
    VariantOptions,
)
from shieldwall.signals.frame_hash import FrameHash, format_vpdq, parse_vpdq
from shieldwall.signals.pdq import pdq_from_luma
from shieldwall.signals.vpdq_variants import BANK_VARIANTS, QUERY_VARIANTS, FrameVariants

__all__ = [
    "FrameHash",
    "VideoHashes",
    "VideoMatch",
    "VpdqSignal",
    "format_vpdq",
    "hash_video",
    "match_frames",
    "parse_vpdq",
    "usable",
    "video_match",
]

#: Query side: one frame a second (vpdq's default). Bank side: every frame.
QUERY_SECONDS_PER_HASH: Final = 1.0
BANK_SECONDS_PER_HASH: Final = 0.0
FRAME_THRESHOLD: Final = 31
FRAME_QUALITY_FLOOR: Final = 50


def hash_video(
    path: Path,
    source: str,
    *,
    seconds_per_hash: float = QUERY_SECONDS_PER_HASH,
    limits: VideoLimits | None = None,
    variants: FrameVariants | None = None,
) -> list[FrameHash]:
    """PDQ hash of every sampled frame of the video at ``path``; with ``variants``, each
    frame's variants are collected there too, from the same decode."""
    out = []
    for frame in sample_frames(path, source, seconds_per_hash=seconds_per_hash, limits=limits):
        h = pdq_from_luma(
            frame.luma,
            frame.full_width,
            frame.full_height,
            frame.factor,
            frame.factor,
            exact=False,
        )
        out.append(FrameHash(frame.number, h.quality, h.hex, frame.timestamp))
        if variants is not None:
            variants.add(frame.number, frame.timestamp, frame.luma)
    return out


@dataclass(frozen=True, slots=True)
class VideoHashes:
    """A video's vpdq signal and frames, with its frame variants when asked for: query-side
    ones by name (each a vpdq :class:`Signal` of the frames that gave it), bank-side ones (each
    a vpdq :class:`Signal` with its ``variant`` name), and those skipped with the reason."""

    signal: Signal
    frames: list[FrameHash]
    variants: dict[str, Signal] = field(default_factory=dict)
    bank_variants: list[Signal] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _bits(frames: Sequence[FrameHash]) -> npt.NDArray[np.uint8]:
    if not frames:
        return np.zeros((0, 32), dtype=np.uint8)
    raw = bytes.fromhex("".join(f.pdq for f in frames))
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(frames), 32)


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """How two videos overlap, frame by frame.

    ``query_share``: share of the query's usable frames within the frame threshold of some frame
    of the other video; ``compared_share``: share of the other video's usable frames matched by
    some query frame. ``query_ranges`` / ``compared_ranges``: the matched stretches of time
    ``(start, end)`` in seconds on each side (consecutive sampled frames merged).
    """

    query_share: float
    compared_share: float
    query_ranges: tuple[tuple[float, float], ...]
    compared_ranges: tuple[tuple[float, float], ...]

    def is_match(self, query_threshold: float = 0.8, compared_threshold: float = 0.0) -> bool:
        """Both shares at or over their thresholds (and something matched at all)."""
        return (
            self.query_share > 0
            and self.query_share >= query_threshold
            and self.compared_share >= compared_threshold
        )


def _step(frames: Sequence[FrameHash]) -> float:
    """The typical time between two sampled frames."""
    if len(frames) < 2:
        return 1.0
    return float(np.median(np.diff([f.timestamp for f in frames])))


def _ranges(
    frames: Sequence[FrameHash], matched: npt.NDArray[np.bool_], gap: float
) -> tuple[tuple[float, float], ...]:
    """Merge matched frames into time ranges; a gap longer than ``gap`` seconds splits."""
    times = [f.timestamp for f, m in zip(frames, matched, strict=True) if m]
    if not times:
        return ()
    out: list[tuple[float, float]] = []
    start = prev = times[0]
    for t in times[1:]:
        if t - prev > gap:
            out.append((start, prev))
            start = t
        prev = t
    out.append((start, prev))
    return tuple(out)


def usable(
    frames: Sequence[FrameHash], quality_floor: int = FRAME_QUALITY_FLOOR
) -> list[FrameHash]:
    """The frames good enough to match (quality at or over the floor)."""
    return [f for f in frames if f.quality >= quality_floor]


def video_match(
    query: Sequence[FrameHash],
    query_hit: npt.NDArray[np.bool_],
    compared: Sequence[FrameHash],
    compared_hit: npt.NDArray[np.bool_],
) -> VideoMatch:
    """Shares and time ranges from which usable frames of each side matched."""
    if not query or not compared:
        return VideoMatch(0.0, 0.0, (), ())
    # Two sampling steps of the sparser side: a sparse query matches only every n-th frame
    # of a densely hashed bank video, and those must still read as one stretch.
    gap = 2 * max(_step(query), _step(compared))
    return VideoMatch(
        float(query_hit.mean()),
        float(compared_hit.mean()),
        _ranges(query, query_hit, gap),
        _ranges(compared, compared_hit, gap),
    )


def match_frames(
    query: Sequence[FrameHash],
    compared: Sequence[FrameHash],
    *,
    frame_threshold: int = FRAME_THRESHOLD,
    quality_floor: int = FRAME_QUALITY_FLOOR,
) -> VideoMatch:
    """Compare two videos as sets of frame hashes, brute force (exact: every pair within the
    threshold). :class:`~shieldwall.index.video.VideoIndex` answers the same against many
    banked videos at once."""
    q = usable(query, quality_floor)
    c = usable(compared, quality_floor)
    if not q or not c:
        return VideoMatch(0.0, 0.0, (), ())
    qb, cb = _bits(q), _bits(c)
    q_hit = np.zeros(len(q), dtype=np.bool_)
    c_hit = np.zeros(len(c), dtype=np.bool_)
    for start in range(0, len(q), 256):  # bounded memory: 256 x len(c) distances at a time
        block = qb[start : start + 256]
        distance = np.bitwise_count(block[:, None, :] ^ cb[None, :, :]).sum(axis=2)
        close = distance <= frame_threshold
        q_hit[start : start + 256] = close.any(axis=1)
        c_hit |= close.any(axis=0)
    return video_match(q, q_hit, c, c_hit)


class VpdqSignal(SignalType):
    """vPDQ of a video: the PDQ hashes of frames sampled once a second (Meta's vpdq format).

    ``distance`` is ``100 - round(100 * min(query_share, compared_share))`` of the two videos'
    frame sets, so 0 means every usable frame of each has a match in the other; matching
    proper (clips, shares, time ranges) uses :func:`match_frames`.
    """

    name = "vpdq"
    content_types = frozenset({ContentType.VIDEO})
    comparison = Comparison.FRAME_SET
    storage = Storage.SIDE_TABLE
    default_threshold = 20
    exchange_names = MappingProxyType({Exchange.THREATEXCHANGE: "vpdq"})
    quality_floor: ClassVar[int | None] = FRAME_QUALITY_FLOOR
    has_variants = True
    seconds_per_hash: float = QUERY_SECONDS_PER_HASH

    def compute(self, media: Media) -> Signal:
        return self.compute_frames(media, self.seconds_per_hash)[0]

    def compute_frames(
        self, media: Media, seconds_per_hash: float = QUERY_SECONDS_PER_HASH
    ) -> tuple[Signal, list[FrameHash]]:
        """The signal and its frames, sampled every ``seconds_per_hash`` (0: every frame)."""
        hashed = self.hash_frames(media, seconds_per_hash)
        return hashed.signal, hashed.frames

    def hash_frames(
        self,
        media: Media,
        seconds_per_hash: float = QUERY_SECONDS_PER_HASH,
        *,
        normalise: bool = False,
        bank_variants: bool = False,
    ) -> VideoHashes:
        """The signal and its frames, sampled every ``seconds_per_hash`` (0: every frame), and
        from the same decode the query-side frame variants (``normalise``: borders trimmed)
        and the bank-side ones (``bank_variants``: crops), see
        :mod:`shieldwall.signals.vpdq_variants`."""
        collect = (
            FrameVariants(query=normalise, bank=bank_variants, quality_floor=FRAME_QUALITY_FLOOR)
            if normalise or bank_variants
            else None
        )
        limits = media.video_limits
        if media.path is not None:
            frames = hash_video(
                media.path,
                media.source,
                seconds_per_hash=seconds_per_hash,
                limits=limits,
                variants=collect,
            )
        else:  # content in memory (stdin, an upload): the decoder wants a file
            with tempfile.NamedTemporaryFile(suffix=".video") as tmp:
                for chunk in media.chunks():
                    tmp.write(chunk)
                tmp.flush()
                frames = hash_video(
                    Path(tmp.name),
                    media.source,
                    seconds_per_hash=seconds_per_hash,
                    limits=limits,
                    variants=collect,
                )
        best = max((f.quality for f in frames), default=0)
        out = VideoHashes(Signal(self.name, format_vpdq(frames), best), frames)
        if collect is None:
            return out
        found = collect.result()
        out.skipped.update(found.skipped)
        for name, cut in found.frames.items():
            signal = Signal(self.name, format_vpdq(cut), max(f.quality for f in cut))
            if normalise and name in QUERY_VARIANTS:
                out.variants[name] = signal
            if bank_variants and name in BANK_VARIANTS and signal.value != out.signal.value:
                out.bank_variants.append(replace(signal, variant=name))
        return out

    def compute_with_variants(
        self, media: Media, options: VariantOptions
    ) -> tuple[Signal, dict[str, Signal], dict[str, str]]:
        """The frames sampled every :attr:`seconds_per_hash`, and (``options.normalise``)
        their query-side variants: each frame with its borders trimmed."""
        hashed = self.hash_frames(media, self.seconds_per_hash, normalise=options.normalise)
        return hashed.signal, hashed.variants, hashed.skipped

    def compute_bank_variants(self, media: Media) -> dict[str, Signal]:
        """Crops of every frame (and its borders trimmed), each a frame set to bank beside the
        video's own (a second decode: :meth:`hash_frames` gives both from one)."""
        hashed = self.hash_frames(media, BANK_SECONDS_PER_HASH, bank_variants=True)
        return {s.variant or "": s for s in hashed.bank_variants}

    def validate(self, value: str) -> str:
        return format_vpdq(parse_vpdq(value))

    def parse(self, value: str, quality: int | None = None) -> Signal:
        """The frame set read from its text form; its quality is that of its best frame,
        whatever ``quality`` says."""
        frames = parse_vpdq(value)
        return Signal(self.name, format_vpdq(frames), max(f.quality for f in frames))

    def distance(self, a: str, b: str) -> int:
        result = match_frames(parse_vpdq(a), parse_vpdq(b))
        return 100 - round(100 * min(result.query_share, result.compared_share))

    def require_usable(self, signal: Signal) -> Signal:
        if not self.is_usable(signal):
            raise LowQualitySignal(
                f"vpdq hash has no frame of quality {self.quality_floor} or more: too little "
                "detail to match reliably"
            )
        return signal
