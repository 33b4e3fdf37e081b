"""PostgreSQL's advisory locks are taken in one order in every transaction (audit chain, then
signal log): a bank import logged its signals, then audited the import, while a case decision
audits, then banks, and the two deadlocked (found by the suite on PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event

from bank_helpers import pdq, random_pdq
from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.store import Database, locks


def _record_locks(db: Database) -> tuple[list[list[int]], Any, Any]:
    transactions: list[list[int]] = []

    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "pg_advisory_xact_lock" in statement:
            transactions[-1].append(params["k"])

    def begun(_conn: Any) -> None:
        transactions.append([])

    event.listen(db.engine, "before_cursor_execute", seen)
    event.listen(db.engine, "begin", begun)
    return transactions, seen, begun


def test_a_bank_import_takes_the_audit_lock_before_the_log_lock(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory locks are PostgreSQL's")
    create_bank(db, "a", "block")
    transactions, seen, begun = _record_locks(db)
    try:
        add_entries(db, "a", [NewEntry([pdq(random_pdq(i))]) for i in range(3)], by="cli:test")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
        event.remove(db.engine, "begin", begun)
    assert [locks.AUDIT, locks.SIGNAL_LOG] in transactions
    for taken in transactions:
        assert taken == [k for k in locks.ORDER if k in taken]  # once each, in the one order


def test_imports_and_audited_changes_at_once_never_deadlock(db: Database) -> None:
    """Writers that audit and log at once, from several threads: all of them commit."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory locks are PostgreSQL's")
    create_bank(db, "a", "block")
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for k in range(5):
                entries = [NewEntry([pdq(random_pdq(seed * 100 + k * 10 + i))]) for i in range(3)]
                add_entries(db, "a", entries, by=f"cli:writer-{seed}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
