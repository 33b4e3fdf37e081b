"""Filling a bank with many random PDQ hashes fast, for benchmarks at 10M: the rows
``banks.add_entries`` writes (entry, signal, signal log), inserted directly in batches, without
external ids or the per-item merge checks (random hashes never collide). ``add_entries`` does
about 2,000 items/s here, which puts 10M out of reach of a benchmark run."""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import func, insert, select, text

from shieldwall.store import Bank, BankEntry, BankSignal, Database, SignalLogRecord, utcnow

BATCH = 50_000


def bulk_fill(
    db: Database,
    bank: str,
    count: int,
    rng: random.Random,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Add ``count`` entries of one random PDQ hash each to ``bank``, ``BATCH`` per
    transaction."""
    with db.session() as session:
        bank_id = session.scalars(select(Bank.id).where(Bank.name == bank)).one()
        first_entry = int(session.scalar(select(func.max(BankEntry.id))) or 0) + 1
        first_signal = int(session.scalar(select(func.max(BankSignal.id))) or 0) + 1
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        now = utcnow()
        entries = [
            {
                "id": first_entry + done + i,
                "bank_id": bank_id,
                "note": "",
                "provenance": "partner",
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ]
        values = [rng.getrandbits(256).to_bytes(32, "big").hex() for _ in range(n)]
        signals = [
            {
                "id": first_signal + done + i,
                "bank_id": bank_id,
                "entry_id": first_entry + done + i,
                "type": "pdq",
                "value": values[i],
                "quality": 100,
                "live": True,
                "created_at": now,
            }
            for i in range(n)
        ]
        log = [
            {"op": "add", "signal_id": s["id"], "type": "pdq", "value": s["value"], "at": now}
            for s in signals
        ]
        with db.transaction() as session:
            session.execute(insert(BankEntry), entries)
            session.execute(insert(BankSignal), signals)
            session.execute(insert(SignalLogRecord), log)
        done += n
        if progress is not None:
            progress(done)
    if not db.is_sqlite:  # the ids were given: move PostgreSQL's sequences past them, so that
        # entries added afterwards (the service benchmark's adds) get free ids
        with db.transaction() as session:
            for table in ("bank_entry", "bank_signal"):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    # The planner's statistics, as a database that took these rows one by one would have
    # (autovacuum's analyze; off on some machines): without them PostgreSQL checked each
    # chunk of later adds for duplicates by reading the whole bank.
    with db.transaction() as session:
        session.execute(text("ANALYZE"))
