"""Banks: create, list, show, enable and disable, thresholds, delete."""

from __future__ import annotations

import pytest

from bank_helpers import pdq, random_pdq
from shieldwall.banks import (
    BankKind,
    add_entry,
    create_bank,
    delete_bank,
    get_bank,
    list_banks,
    set_bank_enabled,
    set_bank_threshold,
)
from shieldwall.errors import Conflict, NotFound, UnknownSignalType, UsageError
from shieldwall.store import Database, signal_log


def test_create_list_show(db: Database) -> None:
    create_bank(db, "ncii", BankKind.BLOCK, description="victims' reports")
    create_bank(db, "memes", "allow", thresholds={"pdq": 20})
    assert [(b.name, b.kind) for b in list_banks(db)] == [
        ("memes", BankKind.ALLOW),
        ("ncii", BankKind.BLOCK),
    ]
    memes = get_bank(db, "memes")
    assert memes.threshold("pdq", 31) == 20 and memes.threshold("md5", 0) == 0
    assert memes.enabled and memes.live_signals == 0


def test_names_are_unique(db: Database) -> None:
    create_bank(db, "ncii", "block")
    with pytest.raises(Conflict, match="already exists"):
        create_bank(db, "ncii", "review")


@pytest.mark.parametrize("name", ["", " ncii", "a b", "x" * 201, "-lead"])
def test_bad_names(db: Database, name: str) -> None:
    with pytest.raises(UsageError, match="bank name"):
        create_bank(db, name, "block")


def test_bad_kind_and_thresholds(db: Database) -> None:
    with pytest.raises(UsageError, match="kind 'deny'"):
        create_bank(db, "a", "deny")
    with pytest.raises(UnknownSignalType):
        create_bank(db, "a", "block", thresholds={"phash": 3})
    with pytest.raises(UsageError, match=r"0\.\.256"):
        create_bank(db, "a", "block", thresholds={"pdq": 300})
    assert list_banks(db) == []


def test_enable_disable_and_threshold(db: Database) -> None:
    create_bank(db, "ncii", "block")
    assert not set_bank_enabled(db, "ncii", False).enabled
    assert set_bank_enabled(db, "ncii", True).enabled
    assert set_bank_threshold(db, "ncii", "PDQ", 40).thresholds == {"pdq": 40}
    assert set_bank_threshold(db, "ncii", "pdq", None).thresholds == {}


def test_unknown_bank(db: Database) -> None:
    with pytest.raises(NotFound, match="no bank named 'nope'"):
        get_bank(db, "nope")
    with pytest.raises(NotFound):
        add_entry(db, "nope", [pdq(random_pdq(1))])


def test_delete_tombstones_its_signals(db: Database) -> None:
    create_bank(db, "ncii", "block")
    add_entry(db, "ncii", [pdq(random_pdq(1)), pdq(random_pdq(2))])
    assert delete_bank(db, "ncii") == 2
    with db.session() as session:
        ops = [e.op.value for e in signal_log.read_after(session, 0)]
    assert ops == ["add", "add", "remove", "remove"]
    with pytest.raises(NotFound):
        get_bank(db, "ncii")
