"""The Hamming index returns exactly what brute force returns, whatever happened before."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shieldwall.errors import MalformedSignal, NotFound, UsageError
from shieldwall.index import HammingIndex, Hit, SignalIndex, as_code
from shieldwall.index.segment import SearchMethod, Segment

U64 = np.uint64
METHODS: tuple[SearchMethod, ...] = ("auto", "probe", "scan")


def oracle(entries: list[tuple[int, np.ndarray]], q: np.ndarray, radius: int) -> list[Hit]:
    """Brute force: every (id, code) within ``radius`` of ``q``, by distance then id."""
    if not entries:
        return []
    ids = np.array([id_ for id_, _ in entries], np.int64)
    return oracle_arrays(ids, np.stack([code for _, code in entries]), q, radius)


def oracle_arrays(ids: np.ndarray, codes: np.ndarray, q: np.ndarray, radius: int) -> list[Hit]:
    """:func:`oracle` over parallel arrays."""
    d = np.bitwise_count(codes ^ q).sum(axis=1)
    keep = np.flatnonzero(d <= radius)
    hits = [Hit(int(ids[k]), int(d[k])) for k in keep]
    return sorted(hits, key=lambda h: (h.distance, h.id))


def flip(code: np.ndarray, bits: list[int]) -> np.ndarray:
    out = code.copy()
    for bit in bits:
        out[bit // 64] ^= U64(1) << U64(bit % 64)
    return out


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def clustered_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Families of near-duplicates around a few centres, plus low-entropy (mostly 0) codes."""
    centres = random_codes(rng, max(1, n // 20))
    centres[0] = 0  # a low-entropy family: all bits clear
    out = np.empty((n, 4), np.uint64)
    for i in range(n):
        c = centres[rng.integers(0, centres.shape[0])]
        k = int(rng.integers(0, 48))
        out[i] = flip(c, rng.integers(0, 256, size=k).tolist())
    return out


def spread(rng: np.random.Generator, total: int) -> list[int]:
    """``total`` distinct bit positions spread evenly over the eight 32-bit substrings: the worst
    case for multi-index hashing (at 31, only one substring differs by 3 bits or fewer)."""
    counts = [total // 8 + (1 if i < total % 8 else 0) for i in range(8)]
    bits: list[int] = []
    for i in rng.permutation(8).tolist():
        bits += (32 * i + rng.choice(32, size=counts[i], replace=False)).tolist()
    return bits


def near(rng: np.random.Generator, codes: np.ndarray, count: int) -> np.ndarray:
    """Queries around the radius from stored codes (half of them adversarial), plus a random one."""
    qs = []
    for k in range(count):
        base = codes[rng.integers(0, codes.shape[0])] if codes.shape[0] else random_codes(rng, 1)[0]
        if k % 2:
            qs.append(flip(base, spread(rng, int(rng.integers(0, 41)))))
        else:
            qs.append(flip(base, rng.integers(0, 256, size=int(rng.integers(0, 40))).tolist()))
    qs.append(random_codes(rng, 1)[0])
    return np.stack(qs)


@pytest.mark.parametrize("n", [1, 2, 63, 64, 100, 1000, 5000])
@pytest.mark.parametrize("kind", ["random", "clustered"])
def test_segment_matches_brute_force(n: int, kind: str) -> None:
    rng = np.random.default_rng(n)
    codes = random_codes(rng, n) if kind == "random" else clustered_codes(rng, n)
    ids = rng.permutation(n).astype(np.int64) * 3
    seg = Segment.build(codes, ids)
    queries = near(rng, codes, 20)
    for radius, method in itertools.product((0, 1, 7, 8, 15, 24, 31, 32, 40), METHODS):
        m = seg.search(queries, radius, method)
        for qi in range(queries.shape[0]):
            sel = m.query == qi
            got = sorted(
                (
                    Hit(int(i), int(d))
                    for i, d in zip(seg.ids_at(m.row[sel]), m.distance[sel], strict=True)
                ),
                key=lambda h: (h.distance, h.id),
            )
            want = oracle_arrays(ids, codes, queries[qi], radius)
            assert got == want, (qi, radius, method)


def test_removed_rows_are_not_returned() -> None:
    rng = np.random.default_rng(5)
    codes = clustered_codes(rng, 2000)
    index = HammingIndex(delta_capacity=64)
    index.add_many(np.arange(2000), codes)
    live = dict(enumerate(codes))
    for i in rng.choice(2000, size=700, replace=False).tolist():
        index.remove(i, codes[i])
        del live[i]
    for q in near(rng, codes, 30):
        assert index.search(q) == oracle(list(live.items()), q, 31)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 10**6)),
        st.tuples(st.just("add_near"), st.integers(0, 10**6)),
        st.tuples(st.just("remove"), st.integers(0, 10**6)),
        st.tuples(st.just("bulk"), st.integers(0, 10**6)),
        st.tuples(st.just("query"), st.integers(0, 10**6)),
        st.tuples(st.just("reload"), st.integers(0, 0)),
        st.tuples(st.just("compact"), st.integers(0, 0)),
    ),
    max_size=60,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    ops=ops,
    seed=st.integers(0, 2**32 - 1),
    delta=st.sampled_from([1, 3, 16]),
    method=st.sampled_from(METHODS),
)
def test_interleaved_changes_match_brute_force(
    ops: list[tuple[str, int]], seed: int, delta: int, method: SearchMethod
) -> None:
    rng = np.random.default_rng(seed)
    sig = SignalIndex(delta_capacity=delta)
    sig.hamming_parts["pdq"] = HammingIndex(
        delta_capacity=delta, merge_limit=200, compact_threshold=300, search_method=method
    )
    live: dict[int, np.ndarray] = {}
    next_id = 0
    with tempfile.TemporaryDirectory() as tmp:
        for op, arg in ops:
            if op == "add" or (op == "add_near" and not live):
                code = random_codes(rng, 1)[0]
                sig.hamming("pdq").add(next_id, code)
                live[next_id] = code
                next_id += 1
            elif op == "add_near":
                base = list(live.values())[arg % len(live)]
                code = flip(base, rng.integers(0, 256, size=arg % 34).tolist())
                sig.hamming("pdq").add(next_id, code)
                live[next_id] = code
                next_id += 1
            elif op == "bulk":
                n = 50 + arg % 300
                codes = clustered_codes(rng, n) if arg % 2 else random_codes(rng, n)
                ids = np.arange(next_id, next_id + n)
                sig.hamming("pdq").add_many(ids, codes)
                live.update(zip(ids.tolist(), codes, strict=True))
                next_id += n
            elif op == "remove" and live:
                id_ = list(live)[arg % len(live)]
                sig.hamming("pdq").remove(id_, live.pop(id_))
            elif op == "reload":
                path = Path(tmp) / "index.swidx"
                sig.save(path)
                sig = SignalIndex.load(path)
            elif op == "compact":
                sig.hamming("pdq").compact()
            elif op == "query":
                entries = list(live.items())
                stored = np.stack([c for _, c in entries]) if entries else random_codes(rng, 1)
                queries = near(rng, stored, 4)
                radius = [31, 31, 0, 8, 32, 45][arg % 6]
                got = sig.hamming("pdq").search_batch(queries, radius)
                for q, hits in zip(queries, got, strict=True):
                    assert hits == oracle(entries, q, radius)
            assert len(sig.hamming("pdq")) == len(live)
        entries = list(live.items())
        for q in near(
            rng, np.stack([c for _, c in entries]) if entries else random_codes(rng, 1), 8
        ):
            assert sig.hamming("pdq").search(q) == oracle(entries, q, 31)


def test_add_and_remove_are_visible_to_the_next_query() -> None:
    index = HammingIndex()
    index.add_many(np.arange(5000), random_codes(np.random.default_rng(0), 5000))
    code = "0f" * 32
    assert index.search(code, 0) == []
    index.add(99_999, code)
    assert index.search(code, 0) == [Hit(99_999, 0)]
    index.remove(99_999, code)
    assert index.search(code, 0) == []


def test_codes_are_accepted_as_hex_bytes_or_words() -> None:
    index = HammingIndex()
    index.add(1, "ff" * 32)
    index.add(2, bytes(32))
    assert index.search(np.full(4, 2**64 - 1, np.uint64)) == [Hit(1, 0)]
    assert index.search("FF" * 31 + "7f", 1) == [Hit(1, 1)]
    assert as_code("00" * 31 + "01")[3] == 1


@pytest.mark.parametrize("bad", ["ab", "zz" * 32, b"\x00" * 31, np.zeros(3, np.uint64)])
def test_malformed_codes_are_rejected(bad: str | bytes | np.ndarray) -> None:
    with pytest.raises(MalformedSignal):
        HammingIndex().add(1, bad)


def test_bad_radius_and_unknown_removal_are_typed_errors() -> None:
    index = HammingIndex()
    index.add(1, "00" * 32)
    with pytest.raises(UsageError):
        index.search("00" * 32, radius=-1)
    with pytest.raises(NotFound):
        index.remove(2, "00" * 32)
    with pytest.raises(NotFound):
        index.remove(1, "01" * 32)


def test_background_compaction_keeps_answers_exact() -> None:
    rng = np.random.default_rng(11)
    index = HammingIndex(delta_capacity=8, merge_limit=32, compact_threshold=64)
    base = clustered_codes(rng, 3000)
    index.add_many(np.arange(3000), base)
    live = dict(enumerate(base))
    next_id = 3000
    for step in range(800):
        if step % 3 == 2:
            id_ = list(live)[int(rng.integers(0, len(live)))]
            index.remove(id_, live.pop(id_))
        else:
            code = flip(base[int(rng.integers(0, 3000))], spread(rng, int(rng.integers(0, 20))))
            index.add(next_id, code)
            live[next_id] = code
            next_id += 1
        if step % 50 == 0:
            for q in near(rng, base, 6):
                assert index.search(q) == oracle(list(live.items()), q, 31)
    index.wait_for_compaction()
    assert len(index) == len(live)
    assert len(index.segments) < 10  # compactions did run
    for q in near(rng, base, 20):
        assert index.search(q) == oracle(list(live.items()), q, 31)


def test_changes_during_a_compaction_build_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adds and removes made while compact() builds outside the lock survive the swap."""
    rng = np.random.default_rng(12)
    base = random_codes(rng, 2000)
    index = HammingIndex(delta_capacity=16, compact_threshold=None)
    index.add_many(np.arange(2000), base)
    extra = random_codes(rng, 40)
    for i in range(40):
        index.add(5000 + i, extra[i])
    live = {**dict(enumerate(base)), **{5000 + i: extra[i] for i in range(40)}}
    real_build = Segment.build
    during: list[int] = []

    def build_with_traffic(codes: np.ndarray, ids: np.ndarray) -> Segment:
        if codes.shape[0] >= 2000 and not during:
            during.append(1)
            for id_ in (3, 4, 5000, 5001):  # entries of the segments being merged
                index.remove(id_, live.pop(id_))
            for i in range(20):  # new entries, not part of the merge
                code = random_codes(rng, 1)[0]
                index.add(9000 + i, code)
                live[9000 + i] = code
            index.remove(9000, live.pop(9000))
        return real_build(codes, ids)

    monkeypatch.setattr(Segment, "build", staticmethod(build_with_traffic))
    index.compact()
    monkeypatch.setattr(Segment, "build", real_build)
    assert during
    assert len(index) == len(live)
    ids, _ = index.items()
    assert sorted(ids.tolist()) == sorted(live)
    for q in [*base[:5], *extra[:5], live[9001], base[3], extra[0]]:
        assert index.search(q) == oracle(list(live.items()), q, 31)
