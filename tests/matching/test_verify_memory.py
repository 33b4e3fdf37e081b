"""A matcher verifies its candidates from memory: a lookup that matches a signal seen before
reads nothing from the database, and what other processes change (an entry disabled or
enabled, a signal quarantined or released, an entry withdrawn) counts from the next refresh."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update

from bank_helpers import flip_bits, pdq, random_pdq
from shieldwall.banks import add_entry, disable_entry, enable_entry, withdraw_entry
from shieldwall.config import Settings
from shieldwall.matching import Matcher, release_signal
from shieldwall.store import BankSignal, Database, utcnow


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements ``db`` runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_repeated_match_reads_nothing_from_the_database(
    banks: Database, settings: Settings
) -> None:
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)], external_ids=["case-1"])
    matcher = Matcher(banks, settings=settings, refresh_interval=float("inf"))
    query = [pdq(flip_bits(value, 5))]
    with statements(banks) as first:
        [hit] = matcher.find(query)
    assert hit.bank == "ncii" and first  # the signal's bank and entry, read once
    with statements(banks) as again:
        for _ in range(20):
            assert [m.entry_id for m in matcher.find(query)] == [hit.entry_id]
        assert matcher.find([pdq(random_pdq(2))]) == []
    assert again == []


def test_changes_made_elsewhere_count_from_the_next_refresh(
    banks: Database, settings: Settings, database_url: str
) -> None:
    value = random_pdq(3)
    entry = add_entry(banks, "ncii", [pdq(value)], external_ids=["case-3"])
    matcher = Matcher(banks, settings=settings, refresh_interval=float("inf"))
    query = [pdq(value)]
    assert matcher.find(query)
    other = Database(database_url)  # another process's connection
    try:
        disable_entry(other, entry.id)
        matcher.refresh()
        assert matcher.find(query) == []
        enable_entry(other, entry.id)
        matcher.refresh()
        assert matcher.find(query)
        disable_entry(other, entry.id, until=utcnow() + timedelta(hours=1))
        matcher.refresh()
        assert matcher.find(query) == []
        enable_entry(other, entry.id)
        with other.transaction() as session:  # flood protection, in another matcher
            session.execute(update(BankSignal).values(quarantined_at=utcnow()))
        matcher.refresh()
        assert matcher.find(query) == []
        with other.session() as session:
            signal_id = session.scalars(
                select(BankSignal.id).where(BankSignal.entry_id == entry.id)
            ).one()
        release_signal(other, signal_id)
        matcher.refresh()
        assert matcher.find(query)
        withdraw_entry(other, entry.id)
        matcher.refresh()
        assert matcher.find(query) == []
    finally:
        other.dispose()


def test_a_disable_time_passed_matches_again_without_a_refresh(
    banks: Database, settings: Settings
) -> None:
    value = random_pdq(4)
    entry = add_entry(banks, "ncii", [pdq(value)])
    disable_entry(banks, entry.id, until=utcnow() + timedelta(seconds=1))
    matcher = Matcher(banks, settings=settings, refresh_interval=float("inf"))
    assert matcher.find([pdq(value)]) == []
    matcher._disabled[entry.id] = utcnow() - timedelta(seconds=1)  # that time came
    assert matcher.find([pdq(value)])
