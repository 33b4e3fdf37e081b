"""The contract every signal type must pass, as an inheritable pytest class.

A test module for a signal type subclasses :class:`SignalTypeContract` and provides two
fixtures, exactly as the built-in types do in ``tests/signals/test_contract.py``::

    class TestMyHash(SignalTypeContract):
        @pytest.fixture
        def signal_type(self) -> SignalType:
            return get_signal_type("myhash")

        @pytest.fixture
        def media_pair(self) -> tuple[Media, Media]:
            return Media(data_a, "a"), Media(data_b, "b")   # two different contents

The methods use plain ``assert`` and need only pytest to run.
"""

from __future__ import annotations

from typing import Any

from shieldwall.errors import MalformedSignal
from shieldwall.media import Media
from shieldwall.signals.base import (
    Comparison,
    ContentType,
    Exchange,
    IndexKind,
    Signal,
    SignalType,
    Storage,
)
from shieldwall.signals.registry import HAMMING_CODE_BYTES, from_exchange_name, get_signal_type

#: The width of ``bank_signal.value`` and ``signal_log.value``: what a stored value (or a
#: side-table value's key) must fit in.
STORED_VALUE_CHARS = 128

__all__ = ["SignalTypeContract"]


def _raises_malformed(signal_type: SignalType, value: str) -> str:
    try:
        signal_type.validate(value)
    except MalformedSignal as exc:
        return exc.message
    raise AssertionError(f"{signal_type.name} accepted malformed value {value!r}")


class SignalTypeContract:
    """Inherit in a ``Test*`` class and provide ``signal_type`` and ``media_pair`` fixtures."""

    def test_declares_its_metadata(self, signal_type: SignalType) -> None:
        assert signal_type.name == signal_type.name.lower() and ":" not in signal_type.name
        assert signal_type.content_types <= set(ContentType)
        assert signal_type.content_types
        assert signal_type.default_threshold >= 0
        assert signal_type.quality_floor is None or 0 <= signal_type.quality_floor <= 100

    def test_is_registered_under_its_name(self, signal_type: SignalType) -> None:
        assert get_signal_type(signal_type.name) is signal_type
        assert get_signal_type(signal_type.name.upper()) is signal_type
        for alias in signal_type.aliases:
            assert get_signal_type(alias) is signal_type

    def test_declares_consistent_capabilities(self, signal_type: SignalType) -> None:
        assert isinstance(signal_type.comparison, Comparison)
        assert isinstance(signal_type.storage, Storage)
        assert isinstance(signal_type.index, IndexKind)
        assert signal_type.bankable == (signal_type.index is not IndexKind.NONE)
        if signal_type.exact_evidence:  # only an exact comparison proves an exact copy
            assert signal_type.comparison is Comparison.EXACT
        if signal_type.comparison is Comparison.EXACT:
            assert signal_type.default_threshold == 0
        if signal_type.comparison is Comparison.HAMMING:
            assert signal_type.code_bytes == HAMMING_CODE_BYTES
        if signal_type.in_ledger:
            assert signal_type.storage is Storage.INLINE

    def test_is_found_by_its_exchange_names(self, signal_type: SignalType) -> None:
        for exchange, name in signal_type.exchange_names.items():
            assert isinstance(exchange, Exchange)
            assert from_exchange_name(exchange, name) is signal_type
            assert from_exchange_name(exchange, name.upper()) is signal_type

    def test_stored_form_fits_the_store_and_the_index(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        a, b = (signal_type.compute(m).value for m in media_pair)
        key = signal_type.storage_key(a)
        assert len(key) <= STORED_VALUE_CHARS
        assert key == signal_type.storage_key(a) != signal_type.storage_key(b)
        if signal_type.storage is Storage.INLINE:
            assert key == a
        if signal_type.index in (IndexKind.EXACT, IndexKind.HAMMING):
            assert len(signal_type.code(a)) == signal_type.code_bytes

    def test_compute_is_deterministic_and_canonical(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        a, _ = media_pair
        first = signal_type.compute(a)
        second = signal_type.compute(Media(a.data, "again"))
        assert isinstance(first, Signal)
        assert first == second
        assert first.type == signal_type.name
        assert signal_type.validate(first.value) == first.value

    def test_distance_is_a_metric_on_computed_values(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        a, b = (signal_type.compute(m).value for m in media_pair)
        assert signal_type.distance(a, a) == 0
        assert signal_type.distance(a, b) == signal_type.distance(b, a) > 0
        assert signal_type.matches(a, a)
        assert not signal_type.matches(a, b)

    def test_string_form_round_trips(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        signal = signal_type.compute(media_pair[0])
        noisy = f"  {signal.value.upper()}\n"
        assert signal_type.parse(noisy, signal.quality) == signal

    def malformed_values(self, value: str) -> list[str]:
        """Corruptions of a valid ``value`` that must be rejected; override for other shapes
        (multi-line forms, say)."""
        return ["", value[:-1], value + value[-1], "z" * len(value), value[:-1] + "-"]

    def test_rejects_malformed_values_with_a_reason(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        value = signal_type.compute(media_pair[0]).value
        for bad in self.malformed_values(value):
            message = _raises_malformed(signal_type, bad)
            assert signal_type.name in message

    def test_quality_floor_is_enforced(
        self, signal_type: SignalType, media_pair: tuple[Media, Media]
    ) -> None:
        signal = signal_type.compute(media_pair[0])
        floor: Any = signal_type.quality_floor
        if floor is None:
            assert signal_type.is_usable(signal)
            return
        assert signal.quality is not None and 0 <= signal.quality <= 100
        poor = Signal(signal.type, signal.value, floor - 1)
        assert not signal_type.is_usable(poor)
        assert signal_type.is_usable(Signal(signal.type, signal.value, floor))
