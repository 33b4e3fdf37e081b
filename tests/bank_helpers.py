"""Helpers for bank and matching tests: PDQ values at chosen distances, generated photos."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import func, select

from shieldwall.media import synthetic
from shieldwall.signals.base import Signal
from shieldwall.store import BankSignal, Database, SignalLogRecord


def random_pdq(seed: int) -> str:
    """A random 64-hex-digit PDQ value."""
    return f"{random.Random(seed).getrandbits(256):064x}"


def flip_bits(value: str, count: int, seed: int = 0) -> str:
    """``value`` with ``count`` distinct bits flipped (so at Hamming distance ``count``)."""
    bits = random.Random(seed).sample(range(256), count)
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


def pdq(value: str, quality: int = 90) -> Signal:
    """A PDQ signal of good quality."""
    return Signal("pdq", value, quality)


def photo(folder: Path, name: str, seed: int, quality: int = 90) -> Path:
    """Write a generated 320 x 240 JPEG and return its path."""
    path = folder / name
    path.write_bytes(synthetic.encode(synthetic.scene(seed, 320, 240), quality=quality))
    return path


def counts(db: Database) -> tuple[int, int]:
    """(bank signals, signal log entries): what a rejected input must leave unchanged."""
    with db.session() as session:
        signals = session.scalar(select(func.count()).select_from(BankSignal)) or 0
        log = session.scalar(select(func.count()).select_from(SignalLogRecord)) or 0
        return int(signals), int(log)
