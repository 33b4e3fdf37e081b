"""The hash-chained audit log: appends chain, and changing any row breaks it at that row."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import update

from shieldwall.audit import GENESIS, list_events, record_event, verify
from shieldwall.store import Database
from shieldwall.store.models import AuditEvent


def _fill(db: Database, n: int) -> None:
    for i in range(n):
        with db.transaction() as session:
            record_event(session, f"user:{i % 3}", "case.decided", f"case:C-{i}", {"i": i})


def test_chain_links_and_verifies(db: Database) -> None:
    assert verify(db) is None
    _fill(db, 5)
    events = list_events(db)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert verify(db) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "user:evil"), ("action", "case.viewed"), ("details", {"i": 99})],
)
def test_changing_a_row_breaks_the_chain_at_that_row(
    db: Database, column: str, value: object
) -> None:
    _fill(db, 6)
    with db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values({column: value}))
    assert verify(db) == 4


def test_removed_row_and_rolled_back_event(db: Database) -> None:
    _fill(db, 4)

    def failing_change() -> None:
        with db.transaction() as session:
            record_event(session, "user:1", "case.decided", "case:X")
            raise RuntimeError("the change failed: its event goes with it")

    with pytest.raises(RuntimeError):
        failing_change()
    assert [e.seq for e in list_events(db)] == [1, 2, 3, 4]
    with db.transaction() as session:
        session.query(AuditEvent).filter(AuditEvent.seq == 2).delete()
    assert verify(db) == 2
