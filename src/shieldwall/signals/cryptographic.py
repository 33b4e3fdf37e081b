"""Exact signals: MD5 and SHA-256 of the content's bytes (StopNCII and NCMEC exchange MD5)."""

from __future__ import annotations

import re
from typing import ClassVar

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media
from shieldwall.signals.base import ContentType, Signal, SignalType

__all__ = ["Md5Signal", "Sha256Signal"]


class _DigestSignal(SignalType):
    """A cryptographic digest of the bytes: matches only when identical."""

    algorithm: ClassVar[str]
    hex_length: ClassVar[int]
    content_types = frozenset({ContentType.PHOTO, ContentType.VIDEO})
    default_threshold = 0

    def compute(self, media: Media) -> Signal:
        return Signal(self.name, media.digest(self.algorithm))

    def validate(self, value: str) -> str:
        canonical = value.strip().lower()
        if len(canonical) != self.hex_length:
            raise MalformedSignal(
                f"{self.name} hash must be {self.hex_length} hex digits, got {len(canonical)}"
            )
        if not re.fullmatch(r"[0-9a-f]+", canonical):
            raise MalformedSignal(f"{self.name} hash must contain only hex digits 0-9 a-f")
        return canonical

    def distance(self, a: str, b: str) -> int:
        return 0 if a == b else 1


class Md5Signal(_DigestSignal):
    """MD5 of the bytes (StopNCII's video signal; legacy image banks)."""

    name = "md5"
    algorithm = "md5"
    hex_length = 32


class Sha256Signal(_DigestSignal):
    """SHA-256 of the bytes."""

    name = "sha256"
    algorithm = "sha256"
    hex_length = 64
