"""The signal-type plug-in interface.

A *signal* is one hash of one piece of content (``pdq``, ``md5``, ...). A *signal type* knows how
to compute it from decoded media, how to read and check its string form, how far apart two
values are, and what distance counts as a match. Built-in types are registered exactly the way a
third party's are (:mod:`shieldwall.signals.registry`), and every type must pass the contract
suite in :mod:`shieldwall.signals.contract`.

A type also declares its *capabilities*, and every layer above (banks, the index, the matcher,
the ledger, cases, exchanges) dispatches on them, never on a type's name:

- :attr:`SignalType.comparison`: how two values are compared (equal digests, Hamming distance
  under a per-bank threshold, a set of frame hashes, a set of local features), which also says
  which index serves it (:attr:`SignalType.index`);
- :attr:`SignalType.code_bytes`: the length of a digest or code, as the index stores it;
- :attr:`SignalType.storage`: inline in ``bank_signal.value``, or in a side table for large
  values (a vPDQ frame set is megabytes), keyed by :meth:`SignalType.storage_key`;
- :attr:`SignalType.exact_evidence`: whether a match on it proves an exact copy, the only kind
  of match that may remove copies automatically;
- :attr:`SignalType.content_types`: photo, video;
- :attr:`SignalType.exchange_names`: how threatexchange/HMA, StopNCII and NCMEC spell it;
- :attr:`SignalType.aliases`: other names it is known by (``video_md5`` for ``md5``).

To add a type::

    class MyHash(SignalType):
        name = "myhash"
        content_types = frozenset({ContentType.PHOTO})
        comparison = Comparison.HAMMING
        code_bytes = 32
        default_threshold = 8

        def compute(self, media: Media) -> Signal: ...
        def validate(self, value: str) -> str: ...   # normalise, or raise MalformedSignal
        def distance(self, a: str, b: str) -> int: ...

and declare it under the ``shieldwall.signal_types`` entry-point group, or call
:func:`shieldwall.signals.register`. Then banks hold it, the matcher and the ledger sweep
search it, and cases weigh it as evidence, with no other change. It must pass
:class:`shieldwall.signals.contract.SignalTypeContract`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from shieldwall.errors import LowQualitySignal
from shieldwall.media import Media

__all__ = [
    "Comparison",
    "ContentType",
    "Exchange",
    "IndexKind",
    "Signal",
    "SignalType",
    "Storage",
    "VariantOptions",
]


class ContentType(StrEnum):
    """What kind of content a signal type hashes."""

    PHOTO = "photo"
    VIDEO = "video"


class Comparison(StrEnum):
    """How two values of a signal type are compared."""

    #: Equal digests (MD5, SHA-256): distance 0 or nothing.
    EXACT = "exact"
    #: Hamming distance between fixed-length binary codes (PDQ), under a per-bank threshold.
    HAMMING = "hamming"
    #: A set of frame hashes (vPDQ): shares of frames matched, under a per-bank threshold.
    FRAME_SET = "frame_set"
    #: A set of local features (keypoint descriptors, candidates found by the Hamming index)
    #: verified geometrically (ORB: ``orb``); ``distance`` is ``100 - inliers``.
    LOCAL_FEATURES = "local_features"


class IndexKind(StrEnum):
    """Which part of the matcher's in-memory index serves a signal type."""

    EXACT = "exact"  # ids under a digest (shieldwall.index.ExactIndex)
    HAMMING = "hamming"  # multi-index hashing over 256-bit codes (shieldwall.index.HammingIndex)
    FRAMES = "frames"  # every usable frame of a video in a Hamming index (shieldwall.index.video)
    #: every keypoint descriptor of a photo in a Hamming index (shieldwall.index.local_features)
    LOCAL = "local"
    NONE = "none"  # no index: the type cannot be banked


class Storage(StrEnum):
    """Where a banked value is kept."""

    #: In ``bank_signal.value`` and the signal log.
    INLINE = "inline"
    #: In the side table ``bank_signal_value``; ``bank_signal.value`` and the log hold
    #: :meth:`SignalType.storage_key` of it.
    SIDE_TABLE = "side_table"


class Exchange(StrEnum):
    """The hash-exchange formats a signal type can be written in."""

    #: Meta's python-threatexchange and HMA signal type names (``pdq``, ``video_md5``).
    THREATEXCHANGE = "threatexchange"
    #: StopNCII's ``signalType`` (``ImagePDQ``, ``VideoMD5``).
    STOPNCII = "stopncii"
    #: NCMEC's fingerprint element names (``PDQ``, ``MD5``).
    NCMEC = "ncmec"


_INDEX_OF = {
    Comparison.EXACT: IndexKind.EXACT,
    Comparison.HAMMING: IndexKind.HAMMING,
    Comparison.FRAME_SET: IndexKind.FRAMES,
    Comparison.LOCAL_FEATURES: IndexKind.LOCAL,
}


@dataclass(frozen=True, slots=True)
class VariantOptions:
    """Which query-side variants to compute (docs/matching.md): the 8 rotations and flips,
    the normalised cuts (borders, caption bars, a screenshot's photo), a sweep of small
    rotations undone (degrees; empty: none)."""

    dihedral: bool = False
    normalise: bool = True
    rotations: tuple[float, ...] = ()

    @property
    def any(self) -> bool:
        """Whether any variant is asked for."""
        return self.dihedral or self.normalise or bool(self.rotations)


@dataclass(frozen=True, slots=True)
class Signal:
    """One hash of one piece of content: its type name, canonical string form and quality.

    ``quality`` is 0..100 for perceptual hashes and ``None`` for types without the notion.
    ``variant`` names a bank-side variant (a crop of a banked photo, ``crop-top-10``); ``None``
    for the signal of the content as given.
    """

    type: str
    value: str
    quality: int | None = None
    variant: str | None = None


class SignalType(ABC):
    """How to compute, read, compare and threshold one kind of hash."""

    #: Registry name and string-form prefix (``pdq:<hex>``).
    name: ClassVar[str]
    #: The content this type can hash.
    content_types: ClassVar[frozenset[ContentType]]
    #: Largest distance that still counts as a match by default; 0 means exact.
    default_threshold: ClassVar[int]
    #: Signals of lower quality are reported but never banked or matched; ``None``: no quality.
    quality_floor: ClassVar[int | None] = None
    #: How two values are compared (and so which index serves the type).
    comparison: ClassVar[Comparison]
    #: Bytes of one digest (exact) or code (Hamming) as the index stores it; 0 for sets.
    code_bytes: ClassVar[int] = 0
    #: Where a banked value is kept.
    storage: ClassVar[Storage] = Storage.INLINE
    #: Whether a match proves an exact copy: only such matches may remove copies automatically.
    exact_evidence: ClassVar[bool] = False
    #: The type's name in each exchange format that has it.
    exchange_names: ClassVar[Mapping[Exchange, str]] = MappingProxyType({})
    #: Other names the type answers to (read on input, never written).
    aliases: ClassVar[frozenset[str]] = frozenset()
    #: Whether hashing computes it unless told which types to compute (``shieldwall hash``,
    #: uploads matched, ``bank add``); a costly plug-in may say no and be asked for by name.
    computed_by_default: ClassVar[bool] = True
    #: Whether :meth:`compute_with_variants` gives query-side variants (PDQ's rotations and
    #: flips), matched on request (``dihedral``) as well as the signal itself.
    has_variants: ClassVar[bool] = False

    @property
    def index(self) -> IndexKind:
        """Which part of the matcher's index serves this type (from :attr:`comparison`)."""
        return _INDEX_OF[self.comparison]

    @property
    def bankable(self) -> bool:
        """Whether banks can hold it: some index serves it."""
        return self.index is not IndexKind.NONE

    @property
    def in_ledger(self) -> bool:
        """Whether the ledger of hosted content keeps it: an indexed type kept inline (a
        video's frame set is not kept; its exact hashes are)."""
        return self.index in (IndexKind.EXACT, IndexKind.HAMMING) and (
            self.storage is Storage.INLINE
        )

    def storage_key(self, value: str) -> str:
        """What ``bank_signal.value`` and the signal log hold for ``value``: the value itself
        when kept inline, its SHA-256 when kept in the side table."""
        if self.storage is Storage.INLINE:
            return value
        return hashlib.sha256(value.encode("utf-8")).hexdigest()

    def code(self, value: str) -> bytes:
        """The :attr:`code_bytes` bytes the index stores for a canonical value (hex digits by
        default; override for other string forms)."""
        return bytes.fromhex(value)

    @abstractmethod
    def compute(self, media: Media) -> Signal:
        """Hash ``media``; raises a :class:`~shieldwall.errors.MediaError` when it cannot."""

    @abstractmethod
    def validate(self, value: str) -> str:
        """Return the canonical form of ``value`` or raise
        :class:`~shieldwall.errors.MalformedSignal` saying what is wrong with it."""

    @abstractmethod
    def distance(self, a: str, b: str) -> int:
        """Distance between two canonical values (0 = identical)."""

    def compute_with_variants(
        self, media: Media, options: VariantOptions
    ) -> tuple[Signal, dict[str, Signal], dict[str, str]]:
        """The signal, its query-side variants by name, and the variants skipped with the
        reason, from one decode of ``media`` (PDQ: rotations and flips, normalised cuts,
        rotations undone). A type without variants gives none; one that has them declares
        :attr:`has_variants`. A variant equal to the signal is left out."""
        return self.compute(media), {}, {}

    def compute_bank_variants(self, media: Media) -> dict[str, Signal]:
        """Extra signals to bank beside the signal itself when the image is at hand (PDQ:
        crops from each side and the centre, and the canonical cuts), by name. None by
        default."""
        return {}

    def parse(self, value: str, quality: int | None = None) -> Signal:
        """A validated :class:`Signal` from its string form."""
        return Signal(self.name, self.validate(value), quality)

    def is_usable(self, signal: Signal) -> bool:
        """Whether ``signal`` is good enough to bank or match (quality floor)."""
        if self.quality_floor is None or signal.quality is None:
            return True
        return signal.quality >= self.quality_floor

    def require_usable(self, signal: Signal) -> Signal:
        """``signal`` itself, or :class:`~shieldwall.errors.LowQualitySignal` saying why not."""
        if not self.is_usable(signal):
            raise LowQualitySignal(
                f"{self.name} hash has quality {signal.quality}, below the floor of "
                f"{self.quality_floor}: too little detail to match reliably"
            )
        return signal

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        """Whether two values are within ``threshold`` (default: the type's own)."""
        limit = self.default_threshold if threshold is None else threshold
        return self.distance(a, b) <= limit
