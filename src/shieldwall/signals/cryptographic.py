"""Exact signals: MD5 and SHA-256 of the content's bytes (StopNCII and NCMEC exchange MD5).

One rule for MD5: ``md5`` is the MD5 of the bytes of any content, photo or video. StopNCII's
``VideoMD5`` and threatexchange's ``video_md5`` are that same digest of a video's file, so they
are read as ``md5`` (``video_md5`` is an alias of the type) and a video upload is looked up by
its ``md5``: a banked StopNCII video record matches the upload of the same file.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import ClassVar

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media
from shieldwall.signals.base import Comparison, ContentType, Exchange, Signal, SignalType

__all__ = ["Md5Signal", "Sha256Signal"]


class _DigestSignal(SignalType):
    """A cryptographic digest of the bytes: matches only when identical."""

    algorithm: ClassVar[str]
    hex_length: ClassVar[int]
    content_types = frozenset({ContentType.PHOTO, ContentType.VIDEO})
    comparison = Comparison.EXACT
    default_threshold = 0
    exact_evidence = True

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
    """MD5 of the bytes of a photo or a video (StopNCII's ``VideoMD5``; legacy image banks)."""

    name = "md5"
    algorithm = "md5"
    hex_length = 32
    code_bytes = 16
    aliases = frozenset({"video_md5"})
    exchange_names = MappingProxyType(
        {Exchange.THREATEXCHANGE: "video_md5", Exchange.STOPNCII: "VideoMD5", Exchange.NCMEC: "MD5"}
    )


class Sha256Signal(_DigestSignal):
    """SHA-256 of the bytes."""

    name = "sha256"
    algorithm = "sha256"
    hex_length = 64
    code_bytes = 32
    exchange_names = MappingProxyType({Exchange.THREATEXCHANGE: "video_sha256"})
