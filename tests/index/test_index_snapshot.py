"""Snapshot files round-trip, old versions still load, and damage is a typed error."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import struct
from pathlib import Path

import numpy as np
import pytest

from shieldwall.errors import SnapshotError
from shieldwall.index import Change, ChangeOp, Hit, SignalIndex
from shieldwall.index.snapshot import FORMAT_VERSION, MAGIC

DATA = Path(__file__).resolve().parents[1] / "data"
V1_FIXTURE = DATA / "index-v1.swidx"


def fixture_changes() -> list[Change]:
    """The log the committed version-1 fixture was made from (see ``make_v1_fixture``)."""
    changes = []
    seq = 0
    for i in range(300):
        seq += 1
        pdq = hashlib.sha256(f"pdq {i}".encode()).hexdigest()
        changes.append(Change(seq, ChangeOp.ADD, i, "pdq", pdq))
    for i in range(0, 300, 7):
        seq += 1
        pdq = hashlib.sha256(f"pdq {i}".encode()).hexdigest()
        changes.append(Change(seq, ChangeOp.REMOVE, i, "pdq", pdq))
    for i in range(20):
        seq += 1
        changes.append(
            Change(seq, ChangeOp.ADD, 1000 + i, "md5", hashlib.md5(bytes([i])).hexdigest())
        )
        seq += 1
        sha = hashlib.sha256(bytes([i])).hexdigest()
        changes.append(Change(seq, ChangeOp.ADD, 2000 + i, "sha256", sha))
    return changes


def make_v1_fixture(path: Path) -> None:
    """How ``tests/data/index-v1.swidx`` was made (delta of 64, so it has segments and a delta)."""
    index = SignalIndex(delta_capacity=64)
    index.apply(fixture_changes())
    index.save(path)


def built(changes: list[Change]) -> SignalIndex:
    index = SignalIndex(delta_capacity=64)
    index.apply(changes)
    return index


def same_content(a: SignalIndex, b: SignalIndex) -> None:
    assert a.seq == b.seq
    assert len(a) == len(b)
    ids_a, codes_a = a.hamming("pdq").items()
    ids_b, codes_b = b.hamming("pdq").items()
    assert sorted(zip(ids_a.tolist(), map(bytes, codes_a), strict=True)) == sorted(
        zip(ids_b.tolist(), map(bytes, codes_b), strict=True)
    )
    for name in ("md5", "sha256"):
        ia, da = a.exact[name].items()
        ib, db = b.exact[name].items()
        assert sorted(zip(ia.tolist(), map(bytes, da), strict=True)) == sorted(
            zip(ib.tolist(), map(bytes, db), strict=True)
        )


def test_round_trip_keeps_content_seq_and_answers(tmp_path: Path) -> None:
    changes = fixture_changes()
    index = built(changes)
    index.save(tmp_path / "a.swidx")
    loaded = SignalIndex.load(tmp_path / "a.swidx")
    same_content(index, loaded)
    for c in changes[:40]:
        assert loaded.search("pdq", c.value) == index.search("pdq", c.value)
    assert loaded.lookup("md5", hashlib.md5(bytes([3])).hexdigest()) == [1003]


def _save_repeatedly(index: SignalIndex, path: Path, times: int) -> None:
    for _ in range(times):
        index.save(path)


def test_writers_saving_one_snapshot_at_once_leave_a_whole_file(tmp_path: Path) -> None:
    """``serve --workers N``: every process saves the same snapshot when it stops. Each writes
    a temporary file of its own and renames it into place, so the survivor is whole (with a
    shared temporary name the bytes interleaved into a corrupt file, or a rename failed)."""
    rng = np.random.default_rng(5)
    index = SignalIndex()
    codes = rng.integers(0, 256, size=(300_000, 32), dtype=np.uint8)
    index.hamming("pdq").add_many(range(300_000), codes)
    path = tmp_path / "signals.snapshot"
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_save_repeatedly, args=(index, path, 4)) for _ in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=600)
    assert [w.exitcode for w in writers] == [0, 0, 0]
    loaded = SignalIndex.load(path)  # a corrupt file: SnapshotError (checksum mismatch)
    assert len(loaded) == len(index) == 300_000
    assert loaded.search("pdq", bytes(codes[1234]), radius=0) == [Hit(1234, 0)]
    assert [p.name for p in tmp_path.iterdir()] == ["signals.snapshot"]  # no temporary left


def test_committed_version_1_snapshot_still_loads() -> None:
    loaded = SignalIndex.load(V1_FIXTURE)
    same_content(built(fixture_changes()), loaded)
    assert loaded.seq == len(fixture_changes())
    assert loaded.search("pdq", hashlib.sha256(b"pdq 1").hexdigest(), 0) == [Hit(1, 0)]
    assert loaded.search("pdq", hashlib.sha256(b"pdq 7").hexdigest(), 0) == []


def test_a_version_1_snapshot_is_rewritten_as_the_current_version(tmp_path: Path) -> None:
    """Version-1 segments (eight entry tables, rows in insertion order) are rebuilt on load, so
    a save after loading writes the current format with the same content."""
    loaded = SignalIndex.load(V1_FIXTURE)
    assert all(
        seg.n_dead == 0 for seg in loaded.hamming("pdq").segments
    )  # removed rows were dropped
    loaded.save(tmp_path / "v2.swidx")
    assert (tmp_path / "v2.swidx").read_bytes()[8:12] == struct.pack("<I", FORMAT_VERSION)
    same_content(built(fixture_changes()), SignalIndex.load(tmp_path / "v2.swidx"))


def test_restart_is_snapshot_plus_log_tail(tmp_path: Path) -> None:
    changes = fixture_changes()
    built(changes[:200]).save(tmp_path / "s.swidx")
    restarted = SignalIndex.load(tmp_path / "s.swidx")
    assert restarted.apply(changes) == len(changes) - 200  # the overlap is skipped
    same_content(built(changes), restarted)


def header_of(data: bytes) -> dict[str, object]:
    _, _, length = struct.unpack_from("<8sII", data)
    return json.loads(data[16 : 16 + length])  # type: ignore[no-any-return]


@pytest.fixture
def snapshot_bytes(tmp_path: Path) -> bytes:
    built(fixture_changes()).save(tmp_path / "x.swidx")
    return (tmp_path / "x.swidx").read_bytes()


def test_a_flipped_byte_in_any_section_is_detected(tmp_path: Path, snapshot_bytes: bytes) -> None:
    sections = header_of(snapshot_bytes)["sections"]
    assert isinstance(sections, list)
    for entry in sections:
        if entry["nbytes"] == 0:
            continue
        data = bytearray(snapshot_bytes)
        data[entry["offset"] + entry["nbytes"] // 2] ^= 0x10
        (tmp_path / "bad.swidx").write_bytes(bytes(data))
        with pytest.raises(SnapshotError, match="checksum"):
            SignalIndex.load(tmp_path / "bad.swidx")


def test_every_byte_of_the_file_is_checked(tmp_path: Path, snapshot_bytes: bytes) -> None:
    """Sections are checksummed and the alignment padding must be zeros: flipping any single
    byte (here every 7th, and the last 64) makes the file unloadable."""
    positions = [
        *range(0, len(snapshot_bytes), 7),
        *range(len(snapshot_bytes) - 64, len(snapshot_bytes)),
    ]
    for where in positions:
        data = bytearray(snapshot_bytes)
        data[where] ^= 0x04
        (tmp_path / "bad.swidx").write_bytes(bytes(data))
        with pytest.raises(SnapshotError):
            SignalIndex.load(tmp_path / "bad.swidx")


@pytest.mark.parametrize("where", [5, 12, 20, 100])
def test_damage_in_the_header_is_detected(
    tmp_path: Path, snapshot_bytes: bytes, where: int
) -> None:
    data = bytearray(snapshot_bytes)
    data[where] ^= 0x01
    (tmp_path / "bad.swidx").write_bytes(bytes(data))
    with pytest.raises(SnapshotError):
        SignalIndex.load(tmp_path / "bad.swidx")


@pytest.mark.parametrize("keep", [0, 7, 16, 200, -1])
def test_truncated_snapshot_is_detected(tmp_path: Path, snapshot_bytes: bytes, keep: int) -> None:
    (tmp_path / "cut.swidx").write_bytes(snapshot_bytes[:keep])
    with pytest.raises(SnapshotError):
        SignalIndex.load(tmp_path / "cut.swidx")


def test_unknown_version_and_foreign_files_are_rejected(
    tmp_path: Path, snapshot_bytes: bytes
) -> None:
    newer = bytearray(snapshot_bytes)
    newer[8:12] = struct.pack("<I", 99)
    (tmp_path / "v99.swidx").write_bytes(bytes(newer))
    with pytest.raises(SnapshotError, match="version 99"):
        SignalIndex.load(tmp_path / "v99.swidx")
    (tmp_path / "pickle.swidx").write_bytes(b"\x80\x04\x95" + bytes(100))
    with pytest.raises(SnapshotError, match="not a Shieldwall"):
        SignalIndex.load(tmp_path / "pickle.swidx")
    with pytest.raises(SnapshotError):
        SignalIndex.load(tmp_path / "missing.swidx")
    assert snapshot_bytes.startswith(MAGIC)


def test_an_empty_index_round_trips(tmp_path: Path) -> None:
    SignalIndex(seq=5).save(tmp_path / "e.swidx")
    loaded = SignalIndex.load(tmp_path / "e.swidx")
    assert (loaded.seq, len(loaded)) == (5, 0)
    assert loaded.search("pdq", np.zeros(4, np.uint64)) == []
