"""The PDQ hash of one sampled video frame, and the vpdq text form of a list of them.

Kept apart from :mod:`shieldwall.signals.vpdq` so that the frame variants
(:mod:`shieldwall.signals.vpdq_variants`), the frames index and the matcher can share it
without importing the signal type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shieldwall.errors import MalformedSignal

__all__ = ["FrameHash", "format_vpdq", "parse_vpdq"]

# ASCII digits only, and bounded: a frame number or timestamp of thousands of digits is no
# frame (int() refuses over 4300 digits, float() makes 400 digits inf, which does not read
# back); 12 digits of seconds is 30,000 years, 12 of frames 300 years at 100 fps.
_LINE = re.compile(r"^([0-9]{1,12}),([0-9]{1,3}),([0-9a-f]{64}),([0-9]{1,12}(?:\.[0-9]{1,9})?)$")


@dataclass(frozen=True, slots=True)
class FrameHash:
    """The PDQ hash of one sampled frame: its number (from 0, presentation order), quality,
    64 hex digits and timestamp (seconds). A frame variant (the frame with its borders
    trimmed, a crop of it) keeps the number and timestamp of the frame it was made from."""

    number: int
    quality: int
    pdq: str
    timestamp: float


def format_vpdq(frames: Iterable[FrameHash]) -> str:
    """Meta's vpdq text form: one ``number,quality,hash,timestamp`` line per frame."""
    return "\n".join(f"{f.number},{f.quality},{f.pdq},{f.timestamp:.3f}" for f in frames)


def parse_vpdq(text: str) -> list[FrameHash]:
    """Read the vpdq text form; :class:`MalformedSignal` names the first bad line."""
    frames = []
    for i, raw in enumerate(text.strip().splitlines(), start=1):
        line = raw.strip().lower()
        if not line:
            continue
        m = _LINE.match(line)
        if m is None:
            raise MalformedSignal(
                f"vpdq line {i} must be 'frame,quality,<64 hex pdq>,timestamp', got {raw[:80]!r}"
            )
        quality = int(m.group(2))
        if quality > 100:
            raise MalformedSignal(f"vpdq line {i}: quality {quality} is over 100")
        frames.append(FrameHash(int(m.group(1)), quality, m.group(3), float(m.group(4))))
    if not frames:
        raise MalformedSignal("vpdq hash has no frames")
    return frames
