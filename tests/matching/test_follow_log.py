"""A matcher follows the signal log: other processes' changes are live without a rebuild."""

from __future__ import annotations

from bank_helpers import pdq, random_pdq
from shieldwall.banks import add_entry, withdraw
from shieldwall.config import Settings
from shieldwall.matching import Matcher, build_index
from shieldwall.store import Database


def test_new_and_withdrawn_signals_are_seen_by_following(
    banks: Database, database_url: str, settings: Settings
) -> None:
    matcher = Matcher(banks, settings=settings)
    index = matcher.index
    start = index.seq
    other = Database(database_url)  # another process's connection to the same database
    value = random_pdq(1)
    add_entry(other, "ncii", [pdq(value)], external_ids=["case-1"])
    assert matcher.match("a", [pdq(value)]).matched
    assert matcher.index is index and index.seq == start + 1  # followed, not rebuilt
    withdraw(other, "case-1")
    assert not matcher.match("b", [pdq(value)]).matched
    assert index.seq == start + 2
    other.dispose()


def test_a_rebuilt_index_equals_the_followed_one(banks: Database, settings: Settings) -> None:
    matcher = Matcher(banks, settings=settings)
    values = [random_pdq(i) for i in range(20)]
    for i, value in enumerate(values):
        add_entry(banks, "ncii", [pdq(value)], external_ids=[f"c{i}"])
    for i in range(0, 20, 3):
        withdraw(banks, f"c{i}")
    matcher.refresh()
    rebuilt = build_index(banks)
    assert rebuilt.seq == matcher.index.seq
    for value in values:
        assert rebuilt.search("pdq", value, 31) == matcher.index.search("pdq", value, 31)


def test_refresh_interval_bounds_how_often_the_log_is_read(
    banks: Database, settings: Settings
) -> None:
    matcher = Matcher(banks, settings=settings, refresh_interval=3600)
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    assert not matcher.match("a", [pdq(value)]).matched  # not followed yet
    matcher.refresh()
    assert matcher.match("b", [pdq(value)]).matched
