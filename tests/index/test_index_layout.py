"""The compact segment layout: every id width, and directories with and without overflow
blocks, search exactly like brute force and survive a snapshot round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from shieldwall.index import Hit, SignalIndex
from shieldwall.index.segment import (
    DIR_OVERFLOW,
    SearchMethod,
    Segment,
    pack_dirs,
    pack_ids,
    unpack_dirs,
    unpack_ids,
)
from shieldwall.index.snapshot import FORMAT_VERSION

U64 = np.uint64
BIG = 1 << 62

# Id sets that need each of the three id widths: 3-byte offsets, 4-byte offsets, int64.
ID_KINDS = ("3 bytes", "3 bytes, negative base", "4 bytes", "8 bytes")


def make_ids(kind: str, n: int) -> npt.NDArray[np.int64]:
    step = {"3 bytes": 7, "3 bytes, negative base": 3, "4 bytes": 50_000, "8 bytes": BIG // n}
    base = {"3 bytes": 1000, "3 bytes, negative base": -(1 << 40), "4 bytes": 12, "8 bytes": -BIG}
    return np.arange(n, dtype=np.int64) * step[kind] + base[kind]


ID_WIDTH = {"3 bytes": 3, "3 bytes, negative base": 3, "4 bytes": 4, "8 bytes": 8}


def brute(ids: np.ndarray, codes: np.ndarray, q: np.ndarray, radius: int) -> list[Hit]:
    d = np.bitwise_count(codes ^ q).sum(axis=1)
    hits = [Hit(int(ids[k]), int(d[k])) for k in np.flatnonzero(d <= radius)]
    return sorted(hits, key=lambda h: (h.distance, h.id))


def found(seg: Segment, q: np.ndarray, radius: int, method: SearchMethod) -> list[Hit]:
    m = seg.search(q[None, :], radius, method)
    hits = [Hit(i, d) for i, d in zip(seg.ids_at(m.row).tolist(), m.distance.tolist(), strict=True)]
    return sorted(hits, key=lambda h: (h.distance, h.id))


def queries(rng: np.random.Generator, codes: np.ndarray, count: int) -> list[np.ndarray]:
    out = []
    for _ in range(count):
        q = codes[rng.integers(0, codes.shape[0])].copy()
        for bit in rng.integers(0, 256, size=int(rng.integers(0, 36))).tolist():
            q[bit // 64] ^= U64(1) << U64(bit % 64)
        out.append(q)
    return out


def id_width(seg: Segment) -> int:
    return 3 if seg.id_data.ndim == 2 else int(seg.id_data.itemsize)


@pytest.mark.parametrize("kind", list(ID_KINDS))
def test_pack_ids_picks_the_narrowest_width_and_round_trips(kind: str) -> None:
    rng = np.random.default_rng(1)
    ids = rng.permutation(make_ids(kind, 5000))
    data, base = pack_ids(ids)
    width = 3 if data.ndim == 2 else data.itemsize
    assert width == ID_WIDTH[kind]
    assert (unpack_ids(data, base, np.arange(ids.shape[0])) == ids).all()
    rows = rng.integers(0, ids.shape[0], size=50)
    assert (unpack_ids(data, base, rows) == ids[rows]).all()


def test_pack_ids_edges() -> None:
    for ids in ([0, (1 << 24) - 1], [5, 5, 5], [-(1 << 63), (1 << 63) - 1], [7]):
        arr = np.array(ids, np.int64)
        data, base = pack_ids(arr)
        assert (unpack_ids(data, base, np.arange(arr.shape[0])) == arr).all()
    assert pack_ids(np.array([0, 1 << 24], np.int64))[0].dtype == np.uint32
    assert pack_ids(np.zeros(0, np.int64))[0].shape == (0, 3)


def starts_of(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.uint32]:
    """Directories (8, len + 1) from per-bucket row counts."""
    dirs = np.zeros((8, counts.shape[0] + 1), np.uint32)
    dirs[:, 1:] = np.cumsum(counts)
    return dirs


def test_pack_dirs_uses_uint16_offsets_and_overflow_blocks() -> None:
    # 20 rows a bucket: blocks of 2**11 buckets fit 16 bits; no overflow.
    small = starts_of(np.full(1 << 12, 20, np.int64))
    rel, base, over, shift = pack_dirs(small)
    assert rel.dtype == np.uint16 and shift == 11 and over.shape == (0,)
    assert (unpack_dirs(rel, base, over, shift) == small).all()
    # 2,000 rows a bucket: blocks of 2**5 buckets is the largest that fits.
    mid = starts_of(np.full(1 << 12, 2000, np.int64))
    rel, base, over, shift = pack_dirs(mid)
    assert shift == 5 and over.shape == (0,)
    assert (unpack_dirs(rel, base, over, shift) == mid).all()
    # One bucket of 70,000 rows: only its block overflows, into uint32 starts.
    counts = np.full(1 << 12, 20, np.int64)
    counts[100] = 70_000
    big = starts_of(counts)
    rel, base, over, shift = pack_dirs(big)
    assert rel.dtype == np.uint16
    assert int((base >= DIR_OVERFLOW).sum()) == 8  # one block in each of the 8 tables
    assert over.shape == (8 << shift,)
    assert (unpack_dirs(rel, base, over, shift) == big).all()
    # A damaged overflow index is refused.
    base[0, 100 >> shift] = DIR_OVERFLOW | (over.shape[0] - 1)
    with pytest.raises(ValueError, match="overflow"):
        unpack_dirs(rel, base, over, shift)


@pytest.mark.parametrize("kind", list(ID_KINDS))
def test_segment_with_each_id_width_matches_brute_force(kind: str) -> None:
    rng = np.random.default_rng(2)
    n = 40_000
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    codes[: n // 2] = codes[rng.integers(0, 100, size=n // 2)]  # duplicates and families
    ids = rng.permutation(make_ids(kind, n))
    seg = Segment.build(codes, ids)
    assert id_width(seg) == ID_WIDTH[kind]
    assert seg.dirs.dtype == np.uint16 and seg.dir_over.shape == (0,)
    for q in queries(rng, codes, 12):
        for radius in (0, 8, 31):
            want = brute(ids, codes, q, radius)
            assert found(seg, q, radius, "probe") == want
            assert found(seg, q, radius, "scan") == want


def test_segment_with_a_huge_bucket_uses_overflow_directories() -> None:
    """70,000 codes sharing substring 0 (and 2,000 others): table 0 has one bucket of 70,000
    rows, more than a uint16 offset holds, so its block's starts overflow to uint32; exact."""
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 2**64, size=(72_000, 4), dtype=np.uint64)
    codes[:70_000, 0] = (codes[:70_000, 0] & U64(0xFFFFFFFF)) | U64(0x5A5A5A5A << 32)
    ids = np.arange(codes.shape[0], dtype=np.int64)
    seg = Segment.build(codes, ids)
    assert seg.dir_over.shape[0] > 0 and (seg.dir_base >= DIR_OVERFLOW).any()
    # The big bucket is merge-sorted, the small ones insertion-sorted: all in order, ids along.
    assert (np.diff((seg.codes[:, 0] >> U64(32)).astype(np.int64)) >= 0).all()
    assert (seg.codes[np.argsort(seg.ids_at(np.arange(codes.shape[0])))] == codes).all()
    for q in queries(rng, codes, 10):
        for radius in (0, 31):
            want = brute(ids, codes, q, radius)
            assert found(seg, q, radius, "probe") == want


def test_rows_are_in_substring_0_order_and_table_0_is_their_ranges() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 2**64, size=(5000, 4), dtype=np.uint64)
    seg = Segment.build(codes, np.arange(5000, dtype=np.int64))
    sub0 = seg.codes[:, 0] >> U64(32)
    assert (np.diff(sub0.astype(np.int64)) >= 0).all()
    starts = seg.abs_dirs()[0]
    key = sub0 >> U64(32 - seg.b)
    assert (np.searchsorted(key, np.arange((1 << seg.b) + 1)) == starts).all()
    assert seg.entries.shape == (7, 5000)
    # Ids follow their codes through the reordering.
    assert (seg.codes[np.argsort(seg.ids_at(np.arange(5000)))] == codes).all()


def test_removal_bitmap_is_allocated_on_the_first_removal() -> None:
    rng = np.random.default_rng(5)
    seg = Segment.build(rng.integers(0, 2**64, size=(1000, 4), dtype=np.uint64), np.arange(1000))
    before = seg.nbytes()
    assert seg.dead.shape == (0,) and seg.dead_bitmap().shape == (16,)
    seg.kill(3)
    seg.kill(3)
    assert seg.n_dead == 1 and seg.is_dead(3) and not seg.is_dead(4)
    assert seg.nbytes() == before + 16 * 8
    assert seg.live_rows().shape == (999,)


@pytest.mark.parametrize("kind", [*ID_KINDS, "overflow directories"])
def test_snapshot_round_trip_of_each_width(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(6)
    n = 70_000 if kind == "overflow directories" else 20_000
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    if kind == "overflow directories":
        codes[:, 0] &= U64(0xFFFFFFFF)  # every row in one table-0 bucket: over 2**16 rows
        ids = np.arange(n, dtype=np.int64)
    else:
        ids = rng.permutation(make_ids(kind, n))
    index = SignalIndex(delta_capacity=64)
    index.hamming("pdq").add_many(ids, codes)
    for k in range(0, n, 997):  # some removals, so the bitmap is saved too
        index.hamming("pdq").remove(int(ids[k]), codes[k])
    index.hamming("pdq").add(-5, codes[1])  # and something in the delta
    index.save(tmp_path / "w.swidx")
    assert (tmp_path / "w.swidx").read_bytes()[8:12] == FORMAT_VERSION.to_bytes(4, "little")
    loaded = SignalIndex.load(tmp_path / "w.swidx")
    (seg,) = loaded.hamming("pdq").segments
    (orig,) = index.hamming("pdq").segments
    assert id_width(seg) == id_width(orig)
    assert seg.dir_shift == orig.dir_shift
    assert (seg.abs_dirs() == orig.abs_dirs()).all()
    assert (seg.dir_over.shape[0] > 0) == (kind == "overflow directories")
    assert seg.n_dead == orig.n_dead > 0
    assert len(loaded) == len(index)
    for q in queries(rng, codes, 10):
        assert loaded.search("pdq", q) == index.search("pdq", q)
        assert loaded.search("pdq", q, 0) == index.search("pdq", q, 0)
