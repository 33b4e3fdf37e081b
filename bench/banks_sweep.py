"""Sweep time over a large ledger: how long a retroactive sweep takes to find hosted copies of
newly banked hashes.

The ledger is filled with random PDQ hashes (one per hosted item, with a content id) plus
planted near-copies of the hashes that are then added to a block bank; the sweep must find
exactly the planted copies. Filling uses :func:`shieldwall.matching.add_to_ledger` for the
first ``--api-items`` items (to measure the API's recording rate) and bulk SQL for the rest
(same rows, much faster, so that large ledgers fit the time available).

Compared in the same run: reading the ledger's PDQ values alone (the floor any sweep that
streams from the database pays), and faiss ``IndexBinaryFlat`` range search over the same codes
already in memory (compute only).

    .venv/bin/python bench/banks_sweep.py --items 1000000 --new-signals 10

Prints a markdown table for docs/banks.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

try:
    import faiss
except ImportError:  # faiss-cpu is a reference extra
    faiss = None  # type: ignore[assignment]
from sqlalchemy import insert, select

from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.signals.base import Signal
from shieldwall.store import Base, Database, LedgerSignal

FILL_BATCH = 50_000


def flip(value: str, count: int, rng: random.Random) -> str:
    number = int(value, 16)
    for bit in rng.sample(range(256), count):
        number ^= 1 << bit
    return f"{number:064x}"


def fill(db: Database, items: int, api_items: int, planted: dict[int, str], seed: int) -> float:
    """Fill the ledger; returns the API's recording rate (items/s)."""
    gen = np.random.default_rng(seed + 1)  # not the stream the banked hashes came from

    def values(start: int, stop: int) -> list[bytes]:
        raw = gen.bytes(32 * (stop - start))
        out = [raw[32 * k : 32 * k + 32] for k in range(stop - start)]
        for i, value in planted.items():
            if start <= i < stop:
                out[i - start] = bytes.fromhex(value)
        return out

    started = time.perf_counter()
    first = values(0, api_items)
    add_to_ledger(db, ((f"post-{i}", [Signal("pdq", v.hex(), 90)]) for i, v in enumerate(first)))
    api_rate = api_items / (time.perf_counter() - started) if api_items else 0.0
    next_id = api_items
    table = Base.metadata.tables["ledger_item"]
    signals = Base.metadata.tables["ledger_signal"]
    while next_id < items:
        stop = min(items, next_id + FILL_BATCH)
        with db.transaction() as session:
            conn = session.connection()
            # The API gave items 0.. the ids 1..; bulk rows continue that numbering.
            conn.execute(
                insert(table),
                [
                    {"id": i + 1, "content_id": f"post-{i}", "seen_at": datetime.now(UTC)}
                    for i in range(next_id, stop)
                ],
            )
            conn.execute(
                insert(signals),
                [
                    {"item_id": i + 1, "type": "pdq", "value": v.hex()}
                    for i, v in zip(range(next_id, stop), values(next_id, stop), strict=True)
                ],
            )
        next_id = stop
        print(f"  filled {next_id:,} / {items:,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    return api_rate


def read_floor(db: Database) -> float:
    """Seconds to read every ledger PDQ hash in chunks, as the sweep does, and nothing else."""
    started = time.perf_counter()
    last = 0
    while True:
        with db.session() as session:
            rows = session.execute(
                select(LedgerSignal.id, LedgerSignal.item_id, LedgerSignal.value)
                .where(LedgerSignal.type == "pdq", LedgerSignal.id > last)
                .order_by(LedgerSignal.id)
                .limit(200_000)
            ).all()
        if not rows:
            return time.perf_counter() - started
        last = rows[-1][0]
        np.frombuffer(bytes.fromhex("".join(r[2] for r in rows)), dtype=np.uint8)


def faiss_flat(db: Database, queries: list[str]) -> float | None:
    """Seconds for faiss brute-force range search of the new hashes over the ledger's codes,
    already in memory (compute only)."""
    if faiss is None:
        return None
    with db.session() as session:
        raw = bytes.fromhex(
            "".join(session.scalars(select(LedgerSignal.value).where(LedgerSignal.type == "pdq")))
        )
    codes = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 32)
    index = faiss.IndexBinaryFlat(256)
    index.add(codes)
    q = np.frombuffer(bytes.fromhex("".join(queries)), dtype=np.uint8).reshape(-1, 32)
    started = time.perf_counter()
    index.range_search(q, 32)  # faiss's radius is strict: < 32 means <= 31
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="ledger items")
    parser.add_argument("--api-items", type=int, default=20_000, help="items added via the API")
    parser.add_argument("--new-signals", type=int, default=10, help="block signals to sweep")
    parser.add_argument("--db", default="", help="database URL (default: a temporary SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="shieldwall-bench-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'sweep.db'}"
        db = Database(url)
        settings = Settings.load(data_dir=Path(tmp), flood_max_contents=1000)
        rng = random.Random(args.seed)
        banked = [f"{rng.getrandbits(256):064x}" for _ in range(args.new_signals)]
        # Two hosted near-copies (10 and 25 bits away) of each banked hash, spread over the ledger.
        spots = rng.sample(range(args.items), 2 * args.new_signals)
        planted = {
            spot: flip(banked[k // 2], 10 if k % 2 == 0 else 25, rng)
            for k, spot in enumerate(spots)
        }
        started = time.perf_counter()
        api_rate = fill(db, args.items, min(args.api_items, args.items), planted, args.seed)
        fill_s = time.perf_counter() - started

        create_bank(db, "ncii", "block")
        add_entries(db, "ncii", [NewEntry([Signal("pdq", v, 90)]) for v in banked])
        outcome = sweep(db, settings=settings)
        found = set(outcome.matches)
        expected = {f"post-{spot}" for spot in spots}
        assert found == expected, (sorted(found - expected)[:5], sorted(expected - found)[:5])
        again = sweep(db, settings=settings)
        floor_s = read_floor(db)
        flat_s = faiss_flat(db, banked) if args.items <= 20_000_000 else None

        print(
            f"\nLedger of {args.items:,} items ({url.split(':')[0]}), "
            f"{args.new_signals} new block signals, {len(expected)} planted copies"
        )
        print("| step | time | rate |")
        print("|---|---|---|")
        print(
            f"| record via add_to_ledger ({min(args.api_items, args.items):,} items) | | "
            f"{api_rate:,.0f} items/s |"
        )
        print(f"| fill the rest (bulk SQL) | {fill_s:.1f} s | |")
        print(
            f"| **sweep** (found {len(found)} / {len(expected)}) | **{outcome.seconds:.2f} s** | "
            f"{args.items / outcome.seconds:,.0f} ledger hashes/s |"
        )
        print(f"| sweep again (nothing new) | {again.seconds:.3f} s | |")
        print(
            f"| floor: read the ledger's PDQ values | {floor_s:.2f} s | "
            f"sweep / floor = {outcome.seconds / floor_s:.2f} |"
        )
        if flat_s is not None:
            print(f"| faiss IndexBinaryFlat range search, codes in memory | {flat_s:.3f} s | |")
        db.dispose()


if __name__ == "__main__":
    main()
