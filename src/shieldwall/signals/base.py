"""The signal-type plug-in interface.

A *signal* is one hash of one piece of content (``pdq``, ``md5``, ...). A *signal type* knows how
to compute it from decoded media, how to read and check its string form, how far apart two
values are, and what distance counts as a match. Built-in types are registered exactly the way a
third party's are (:mod:`shieldwall.signals.registry`), and every type must pass the contract
suite in :mod:`shieldwall.signals.contract`.

To add a type::

    class MyHash(SignalType):
        name = "myhash"
        content_types = frozenset({ContentType.PHOTO})
        default_threshold = 8

        def compute(self, media: Media) -> Signal: ...
        def validate(self, value: str) -> str: ...   # normalise, or raise MalformedSignal
        def distance(self, a: str, b: str) -> int: ...

and declare it under the ``shieldwall.signal_types`` entry-point group.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from shieldwall.errors import LowQualitySignal
from shieldwall.media import Media

__all__ = ["ContentType", "Signal", "SignalType"]


class ContentType(StrEnum):
    """What kind of content a signal type hashes."""

    PHOTO = "photo"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class Signal:
    """One hash of one piece of content: its type name, canonical string form and quality.

    ``quality`` is 0..100 for perceptual hashes and ``None`` for types without the notion.
    """

    type: str
    value: str
    quality: int | None = None


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
