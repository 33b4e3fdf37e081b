"""Contract of an in-memory signal index: every implementation gives the exact answer."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from bank_helpers import flip_bits, random_pdq
from shieldwall.matching import BruteForceIndex, IndexHit, SignalIndexLike, default_index
from shieldwall.store import LogEntry, LogOp

Factory = Callable[[int], SignalIndexLike]
IMPLEMENTATIONS: dict[str, Factory] = {
    "brute-force": lambda seq: BruteForceIndex(seq=seq),
    "multi-index": default_index,
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def make(request: pytest.FixtureRequest) -> Factory:
    return IMPLEMENTATIONS[request.param]


def _naive(stored: dict[int, str], query: str, radius: int) -> list[IndexHit]:
    hits = [IndexHit(i, (int(v, 16) ^ int(query, 16)).bit_count()) for i, v in stored.items()]
    return sorted((h for h in hits if h.distance <= radius), key=lambda h: (h.distance, h.id))


def test_is_the_protocol(make: Factory) -> None:
    assert isinstance(make(seq=0), SignalIndexLike)  # type: ignore[call-arg]


def test_radius_search_is_exact_under_adds_and_removes(make: Factory) -> None:
    index = make(0)
    rng = random.Random(5)
    base = random_pdq(1)
    stored: dict[int, str] = {}
    entries = []
    seq = 0
    for i in range(1, 400):
        value = flip_bits(base, rng.randrange(0, 60), seed=i) if i % 2 else random_pdq(i)
        seq += 1
        entries.append(LogEntry(seq, LogOp.ADD, i, "pdq", value))
        stored[i] = value
    for i in range(1, 400, 7):
        seq += 1
        entries.append(LogEntry(seq, LogOp.REMOVE, i, "pdq", stored.pop(i)))
    assert index.apply(entries) == len(entries)
    assert index.seq == seq
    for radius in (0, 10, 31, 52):
        assert index.search("pdq", base, radius) == _naive(stored, base, radius)
    # Many queries at once (an upload and its variants): the same answers, in order.
    queries = [base, flip_bits(base, 9, seed=1), random_pdq(9999), base]
    for radius in (0, 31):
        assert index.search_many("pdq", queries, radius) == [
            _naive(stored, q, radius) for q in queries
        ]
    assert index.search_many("pdq", [], 31) == []


def test_exact_types_and_replay(make: Factory) -> None:
    index = make(0)
    md5 = "a" * 32
    log = [
        LogEntry(1, LogOp.ADD, 1, "md5", md5),
        LogEntry(2, LogOp.ADD, 2, "md5", md5),
        LogEntry(3, LogOp.ADD, 3, "sha256", "b" * 64),
        LogEntry(4, LogOp.REMOVE, 1, "md5", md5),
    ]
    assert index.apply(log) == 4
    assert index.search("md5", md5, 0) == [IndexHit(2, 0)]
    assert index.apply(log) == 0  # entries at or below seq are already reflected
    assert index.search("sha256", "b" * 64, 0) == [IndexHit(3, 0)]
    assert index.search("md5", "c" * 32, 0) == []
