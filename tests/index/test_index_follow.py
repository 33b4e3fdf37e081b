"""A follower applying the signal log in batches stays identical to the log's state."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from shieldwall.errors import (
    Conflict,
    MalformedSignal,
    NotFound,
    UnknownSignalType,
    UsageError,
)
from shieldwall.index import Change, ChangeOp, ExactIndex, Hit, SignalIndex


def log(seed: int, n: int) -> list[Change]:
    """A random log of adds and removes over all three signal types."""
    rng = np.random.default_rng(seed)
    live: list[tuple[int, str, str]] = []
    changes = []
    for seq in range(1, n + 1):
        if live and rng.random() < 0.3:
            id_, kind, value = live.pop(int(rng.integers(0, len(live))))
            changes.append(Change(seq, ChangeOp.REMOVE, id_, kind, value))
            continue
        kind = ["pdq", "pdq", "md5", "sha256"][int(rng.integers(0, 4))]
        size = {"pdq": 32, "md5": 16, "sha256": 32}[kind]
        value = rng.integers(0, 256, size=size, dtype=np.uint8).tobytes().hex()
        live.append((seq, kind, value))
        changes.append(Change(seq, ChangeOp.ADD, seq, kind, value))
    return changes


@pytest.mark.parametrize("batch", [1, 7, 100])
def test_follower_in_batches_equals_one_pass(batch: int) -> None:
    changes = log(1, 600)
    leader = SignalIndex(delta_capacity=32)
    leader.apply(changes)
    follower = SignalIndex(delta_capacity=32)
    for start in range(0, len(changes), batch):
        follower.apply(changes[start : start + batch])
        assert follower.seq == changes[min(start + batch, len(changes)) - 1].seq
    assert follower.seq == leader.seq == 600
    for c in changes:
        if c.signal_type == "pdq":
            assert follower.search("pdq", c.value) == leader.search("pdq", c.value)
        else:
            assert follower.lookup(c.signal_type, c.value) == leader.lookup(c.signal_type, c.value)


def test_replayed_entries_are_skipped_and_disorder_is_refused() -> None:
    changes = log(2, 50)
    index = SignalIndex()
    assert index.apply(changes[:30]) == 30
    assert index.apply(changes[:40]) == 10
    assert index.apply(changes) == 10
    with pytest.raises(Conflict):
        index.apply([Change(60, ChangeOp.ADD, 1, "md5", "00" * 16), changes[0]])
    assert index.seq == 60


def test_a_failing_entry_leaves_seq_at_the_last_applied_one() -> None:
    index = SignalIndex()
    ok = Change(1, ChangeOp.ADD, 1, "pdq", "00" * 32)
    missing = Change(2, ChangeOp.REMOVE, 9, "pdq", "11" * 32)
    with pytest.raises(NotFound):
        index.apply([ok, missing])
    assert index.seq == 1
    assert index.search("pdq", "00" * 32) == [Hit(1, 0)]


def test_signal_types_and_values_are_checked() -> None:
    index = SignalIndex()
    with pytest.raises(UnknownSignalType):
        index.add("photodna", 1, "00")
    with pytest.raises(MalformedSignal):
        index.add("md5", 1, "00" * 32)
    with pytest.raises(MalformedSignal):
        index.add("sha256", 1, "not hex")


def test_exact_lookup_is_case_insensitive_and_removes_one_entry() -> None:
    md5 = ExactIndex(16)
    digest = hashlib.md5(b"x").hexdigest()
    md5.add(5, digest)
    md5.add(3, digest.upper())
    md5.add(3, bytes.fromhex(digest))
    assert md5.lookup(digest) == [3, 3, 5]
    md5.remove(3, digest)
    assert md5.lookup(digest.upper()) == [3, 5]
    assert md5.lookup(hashlib.md5(b"y").hexdigest()) == []
    with pytest.raises(NotFound):
        md5.remove(4, digest)
    assert len(md5) == 2


FOLLOWER = """
import json, sys
from pathlib import Path
from shieldwall.index import Change, ChangeOp, SignalIndex

log, snap = Path(sys.argv[1]), Path(sys.argv[2])
index = SignalIndex.load(snap) if snap.exists() else SignalIndex()
changes = [
    Change(e["seq"], ChangeOp(e["op"]), e["id"], e["type"], e["value"])
    for e in map(json.loads, log.read_text().splitlines())
]
print(index.apply(changes))
index.save(snap)
"""


def test_a_separate_process_follows_the_log(tmp_path: Path) -> None:
    changes = log(3, 400)
    log_file, snap = tmp_path / "log.jsonl", tmp_path / "follower.swidx"

    def publish(upto: int) -> None:
        lines = [
            json.dumps(
                {
                    "seq": c.seq,
                    "op": c.op.value,
                    "id": c.id,
                    "type": c.signal_type,
                    "value": c.value,
                }
            )
            for c in changes[:upto]
        ]
        log_file.write_text("\n".join(lines) + "\n")

    def follow() -> int:
        done = subprocess.run(
            [sys.executable, "-c", FOLLOWER, str(log_file), str(snap)],
            check=True,
            capture_output=True,
            text=True,
        )
        return int(done.stdout)

    publish(250)
    assert follow() == 250
    publish(400)
    assert follow() == 150  # restarted from its snapshot, applied only the tail
    follower = SignalIndex.load(snap)
    leader = SignalIndex()
    leader.apply(changes)
    assert follower.seq == leader.seq == 400
    for c in changes:
        if c.signal_type == "pdq":
            assert follower.search("pdq", c.value) == leader.search("pdq", c.value)
        else:
            assert follower.lookup(c.signal_type, c.value) == leader.lookup(c.signal_type, c.value)


def test_plain_strings_work_as_operations_and_ids_must_fit_64_bits() -> None:
    index = SignalIndex()
    index.apply([Change(1, "add", 1, "pdq", "00" * 32)])  # type: ignore[arg-type]
    assert index.search("pdq", "00" * 32) == [Hit(1, 0)]
    with pytest.raises(UsageError):
        index.add("pdq", 1 << 63, "00" * 32)
