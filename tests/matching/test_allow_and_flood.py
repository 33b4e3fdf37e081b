"""Allow banks suppress matches; flood protection quarantines an over-matching signal."""

from __future__ import annotations

import pytest

from bank_helpers import flip_bits, pdq, random_pdq
from shieldwall.banks import add_entry
from shieldwall.config import Settings
from shieldwall.errors import Conflict, NotFound
from shieldwall.matching import Matcher, list_quarantined, release_signal
from shieldwall.store import Database


def test_allow_bank_suppresses_every_match(banks: Database, settings: Settings) -> None:
    meme = random_pdq(1)
    add_entry(banks, "ncii", [pdq(flip_bits(meme, 5))])
    add_entry(banks, "memes", [pdq(meme)], note="a well-known meme")
    outcome = Matcher(banks, settings=settings).match("upload", [pdq(meme)])
    assert not outcome.matched
    assert [m.bank for m in outcome.allowed_by] == ["memes"]
    assert [m.bank for m in outcome.suppressed] == ["ncii"]


def test_flood_quarantines_pending_review(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    entry = add_entry(banks, "ncii", [pdq(value)])
    matcher = Matcher(banks, settings=settings)  # at most 3 distinct contents per hour
    for i in range(3):
        assert matcher.match(f"c{i}", [pdq(flip_bits(value, i))]).matched
    outcome = matcher.match("c3", [pdq(value)])
    assert not outcome.matched
    [signal_id] = outcome.quarantined
    [held] = list_quarantined(banks)
    assert (held.signal_id, held.bank, held.entry_id) == (signal_id, "ncii", entry.id)
    assert not matcher.match("c4", [pdq(value)]).matched  # stays out until reviewed
    release_signal(banks, signal_id)
    assert matcher.match("c5", [pdq(value)]).matched  # counting restarts at release
    assert list_quarantined(banks) == []
    with pytest.raises(Conflict):
        release_signal(banks, signal_id)
    with pytest.raises(NotFound):
        release_signal(banks, 999_999)


def test_flood_counts_distinct_contents(banks: Database, settings: Settings) -> None:
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    matcher = Matcher(banks, settings=settings)
    for _ in range(6):
        assert matcher.match("same-content", [pdq(value)]).matched
