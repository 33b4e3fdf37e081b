"""A sweep split into ledger id ranges finds what one range finds; the ranges cover the ledger
exactly once."""

from __future__ import annotations

from itertools import pairwise

from bank_helpers import flip_bits, pdq, random_pdq
from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.matching.ledger import SweepTarget, ledger_partitions, scan_locally
from shieldwall.store import Database


def test_partitions_cover_the_ledger_once(db: Database) -> None:
    assert ledger_partitions(db, "pdq", 4) == []
    add_to_ledger(db, [(f"post-{i}", [pdq(random_pdq(i))]) for i in range(101)])
    parts = ledger_partitions(db, "pdq", 7)
    assert len(parts) == 7
    assert parts[0].first_id == 1
    assert parts[-1].last_id == 101
    assert all(a.last_id + 1 == b.first_id for a, b in pairwise(parts))
    banked = random_pdq(5)  # post-5 itself
    results = list(scan_locally(db, parts, [_target(banked)], 10))
    assert sum(rows for _hits, rows in results) == 101
    assert [hit for hits, _rows in results for hit in hits] == [(6, 0, 0)]  # item id 6, exact


def _target(value: str) -> SweepTarget:
    return SweepTarget(1, 1, "ncii", "pdq", value, 31)


def test_partitioned_sweep_finds_what_one_range_finds(db: Database) -> None:
    banked = [random_pdq(500 + k) for k in range(4)]
    hosted = [(f"post-{i}", [pdq(random_pdq(i))]) for i in range(200)]
    for k, i in enumerate((3, 77, 150, 199)):
        hosted[i] = (f"post-{i}", [pdq(flip_bits(banked[k], 4 * k))])
    add_to_ledger(db, hosted)
    create_bank(db, "ncii", "block")
    add_entries(db, "ncii", [NewEntry([pdq(v)]) for v in banked])
    settings = Settings.load(flood_max_contents=1000)
    many = sweep(db, settings=settings, partitions=9, chunk_rows=16)
    one = sweep(db, settings=settings, full=True, partitions=1)
    assert many.ledger_scanned == one.ledger_scanned == 200
    assert set(many.matches) == set(one.matches) == {"post-3", "post-77", "post-150", "post-199"}
