"""Bad input gets a clear error and writes nothing."""

from __future__ import annotations

import pytest

from bank_helpers import counts, pdq, random_pdq
from shieldwall.banks import add_entry, create_bank, parse_signal_string, withdraw
from shieldwall.errors import (
    LowQualitySignal,
    MalformedSignal,
    NotFound,
    ShieldwallError,
    UnknownSignalType,
)
from shieldwall.signals.base import Signal
from shieldwall.store import Database


@pytest.fixture
def bank(db: Database) -> Database:
    create_bank(db, "ncii", "block")
    add_entry(db, "ncii", [pdq(random_pdq(0))], external_ids=["case-0"])
    return db


@pytest.mark.parametrize(
    ("signal", "error", "message"),
    [
        (Signal("pdq", "zz" * 32, 90), MalformedSignal, "hex"),
        (Signal("pdq", "ab" * 31, 90), MalformedSignal, "64"),
        (Signal("md5", "ab" * 15), MalformedSignal, "32 hex digits, got 30"),
        (Signal("phash", "ab" * 32), UnknownSignalType, "unknown signal type 'phash'"),
        (Signal("pdq", random_pdq(5), 0), LowQualitySignal, "quality 0, below the floor of 50"),
        (Signal("pdq", random_pdq(5), 49), LowQualitySignal, "below the floor"),
        (Signal("pdq", random_pdq(5), 101), MalformedSignal, r"0\.\.100"),
    ],
)
def test_rejected_signals_write_nothing(
    bank: Database, signal: Signal, error: type[ShieldwallError], message: str
) -> None:
    before = counts(bank)
    good = pdq(random_pdq(9))
    with pytest.raises(error, match=message):
        add_entry(bank, "ncii", [good, signal], external_ids=["case-9"])
    assert counts(bank) == before  # not even the good signal of the same item


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("pdq", MalformedSignal),
        ("pdq:", MalformedSignal),
        ("pdq:" + "0" * 64 + ":high", MalformedSignal),
        ("nope:abcd", UnknownSignalType),
        ("pdq:" + random_pdq(1) + ":0", LowQualitySignal),
    ],
)
def test_signal_strings(text: str, error: type[ShieldwallError]) -> None:
    with pytest.raises(error):
        parse_signal_string(text)


def test_signal_string_forms() -> None:
    value = random_pdq(3)
    assert parse_signal_string(f"pdq:{value.upper()}") == Signal("pdq", value)
    assert parse_signal_string(f"pdq {value}") == Signal("pdq", value)
    assert parse_signal_string(f"pdq:{value}:77") == Signal("pdq", value, 77)
    assert parse_signal_string("md5:" + "a" * 32 + ":77").quality is None


def test_withdrawing_an_unknown_id_is_not_found(bank: Database) -> None:
    before = counts(bank)
    with pytest.raises(NotFound, match="'case-404'"):
        withdraw(bank, "case-404")
    assert counts(bank) == before


def test_a_local_features_plug_in_is_bankable(
    bank: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plug-in signal type (registered like an entry point's) compared by local features is
    bankable now that the local-feature index serves that comparison."""
    from shieldwall.banks import prepare_signal
    from shieldwall.signals import Comparison, registry
    from shieldwall.signals.cryptographic import Md5Signal

    class KeypointSignal(Md5Signal):
        name = "keypoints"
        comparison = Comparison.LOCAL_FEATURES
        exact_evidence = False

    registry.get_signal_type("md5")  # the built-in types are loaded first
    monkeypatch.setitem(registry._registry, "keypoints", KeypointSignal())
    assert prepare_signal("keypoints", "0" * 32).type == "keypoints"
