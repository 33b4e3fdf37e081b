"""The contract every exchange plug-in must pass, as an inheritable pytest class.

A test module for an exchange subclasses :class:`ExchangeContract` and provides a ``fake``
fixture: a real server on loopback implementing the exchange's protocol, started, and
controlled through the :class:`FakeExchange` protocol (``tests/exchange/test_contract.py``
does it for the built-in ones). The suite also needs a ``db`` fixture (a migrated database).

The methods use plain ``assert`` and need only pytest to run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import pytest
from sqlalchemy import func, select

from shieldwall.banks import get_bank
from shieldwall.errors import ExchangeError, ExchangeRefused, ExchangeUnavailable
from shieldwall.exchange.base import (
    BadRecord,
    ExchangeContext,
    Feedback,
    FeedbackItem,
    FetchPage,
    HashRecord,
    RemoteSignal,
    SignalExchange,
)
from shieldwall.exchange.exchanges import add_exchange, get_exchange, plugin_for
from shieldwall.exchange.registry import get_exchange_kind
from shieldwall.exchange.sync import sync_exchange
from shieldwall.net import AddressPolicy
from shieldwall.store import Database
from shieldwall.store.models import BankSignal, ExchangeRecord

__all__ = ["ExchangeContract", "FakeExchange", "loopback_context", "pdq_value"]


class FakeExchange(Protocol):
    """What the contract needs of an exchange's fake server."""

    #: The exchange's names of a PDQ type, an exact type we match, and a type we do not bank.
    pdq_type: str
    exact_type: str
    unsupported_type: str

    def put(self, signal: RemoteSignal, refs: Sequence[str] = ...) -> None:
        """Add or update an item holding ``signal``, held by ``refs``."""

    def withdraw(self, signal: RemoteSignal) -> None:
        """Withdraw (delete) the item holding ``signal``."""

    def put_malformed(self) -> None:
        """Serve one record that cannot be read among the others."""

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        """Answer the next request with ``status`` (0: too slowly for the client's timeout)."""

    def feedback(self) -> list[tuple[str, Feedback]]:
        """Every feedback received, as ``(hash value, feedback)``."""

    def settings(self) -> dict[str, Any]:
        """The exchange settings that reach this fake."""


def loopback_context(timeout_seconds: float = 5.0, fake: object | None = None) -> ExchangeContext:
    """An :class:`ExchangeContext` that may reach loopback (where the fakes listen), on the
    clock of ``fake`` when it keeps one (a ``now()`` method), else the system's."""
    clock = getattr(fake, "now", None)
    return ExchangeContext(
        policy=AddressPolicy.from_networks(["127.0.0.0/8", "::1/128"]),
        timeout_seconds=timeout_seconds,
        clock=clock if callable(clock) else time.time,
    )


def pdq_value(seed: int) -> str:
    """A PDQ value (64 hex digits) made from ``seed``: distinct seeds, distant values."""
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(f"pdq-{seed}".encode()).hexdigest()


def _records(pages: list[FetchPage]) -> list[HashRecord]:
    return [r for p in pages for r in p.records if isinstance(r, HashRecord)]


def _live(db: Database, bank: str) -> set[str]:
    with db.session() as session:
        bank_id = get_bank(db, bank).id
        return set(
            session.scalars(
                select(BankSignal.value).where(BankSignal.bank_id == bank_id, BankSignal.live)
            )
        )


class ExchangeContract:
    """Inherit in a ``Test*`` class and provide a started ``fake`` (:class:`FakeExchange`)
    and its plug-in's ``kind``."""

    kind: str = ""

    @pytest.fixture
    def exchange(self, db: Database, fake: FakeExchange) -> SignalExchange:
        add_exchange(db, "contract", self.kind, settings=fake.settings(), schedule=False)
        with db.session() as session:
            row = session.scalar(select(ExchangeRecord).where(ExchangeRecord.name == "contract"))
            assert row is not None
            return plugin_for(row, loopback_context(timeout_seconds=0.5, fake=fake))

    def _pdq(self, fake: FakeExchange, seed: int) -> RemoteSignal:
        return RemoteSignal(fake.pdq_type, pdq_value(seed))

    def test_is_registered_under_its_kind(self, exchange: SignalExchange) -> None:
        assert get_exchange_kind(self.kind) is type(exchange)
        assert exchange.kind == self.kind
        assert set(exchange.secret_settings) <= set(exchange.settings_model.model_fields)

    def test_maps_the_types_it_names_through_the_capabilities(
        self, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        pdq = exchange.signal_type(fake.pdq_type)
        exact = exchange.signal_type(fake.exact_type)
        assert pdq is not None and pdq.name == "pdq"
        assert exact is not None and exact.exact_evidence
        assert exchange.signal_type(fake.unsupported_type) is None
        assert (exchange.remote_name("pdq") or "").lower() == fake.pdq_type.lower()

    def test_a_fetch_from_the_start_then_from_its_checkpoint(
        self, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        for seed in range(5):
            fake.put(self._pdq(fake, seed))
        pages = list(exchange.fetch(None))
        values = {s.value for r in _records(pages) for s in r.signals}
        assert values == {pdq_value(seed) for seed in range(5)}
        assert not pages[-1].more
        again = list(exchange.fetch(pages[-1].checkpoint))
        assert _records(again) == []  # nothing changed since

    def test_a_delta_carries_changes_and_withdrawals(
        self, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        first, second = self._pdq(fake, 1), self._pdq(fake, 2)
        fake.put(first)
        checkpoint = list(exchange.fetch(None))[-1].checkpoint
        fake.put(second)
        fake.withdraw(first)
        delta = _records(list(exchange.fetch(checkpoint)))
        state = {s.value: r.withdrawn for r in delta for s in r.signals}
        gone = {ref for r in delta if r.withdrawn and not r.signals for ref in r.refs}
        assert state.get(second.value) is False
        assert state.get(first.value) is True or gone  # by hash, or by the item's id

    def test_a_malformed_record_is_reported_and_the_rest_read(
        self, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        fake.put(self._pdq(fake, 1))
        fake.put_malformed()
        fake.put(self._pdq(fake, 2))
        records = [r for p in exchange.fetch(None) for r in p.records]
        bad = [r for r in records if isinstance(r, BadRecord)]
        assert len(bad) == 1 and bad[0].reason
        assert len([r for r in records if isinstance(r, HashRecord)]) == 2

    @pytest.mark.parametrize(
        ("status", "error"),
        [(401, ExchangeRefused), (429, ExchangeUnavailable), (503, ExchangeUnavailable)],
    )
    def test_failures_are_typed_errors(
        self,
        exchange: SignalExchange,
        fake: FakeExchange,
        status: int,
        error: type[ExchangeError],
    ) -> None:
        fake.fail_next(status, retry_after=7 if status == 429 else None)
        with pytest.raises(error) as raised:
            list(exchange.fetch(None))
        assert str(status) in raised.value.message
        if status == 429:
            assert isinstance(raised.value, ExchangeUnavailable)
            assert raised.value.retry_after == 7

    def test_a_slow_answer_is_a_timeout(self, exchange: SignalExchange, fake: FakeExchange) -> None:
        fake.fail_next(0)
        with pytest.raises(ExchangeUnavailable, match="timed out"):
            list(exchange.fetch(None))

    def test_feedback_reaches_the_exchange(
        self, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        if not exchange.can_feedback:
            pytest.skip(f"{self.kind} takes no feedback")
        signal = self._pdq(fake, 3)
        fake.put(signal)
        refs = next(r.refs for r in _records(list(exchange.fetch(None))))
        exchange.send_feedback([FeedbackItem(signal, kind, refs) for kind in Feedback])
        assert sorted(fake.feedback()) == sorted(
            (signal.value, kind) for kind in exchange.feedback_kinds
        )

    def test_a_sync_feeds_the_bank_and_follows_withdrawals(
        self, db: Database, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        kept, dropped = self._pdq(fake, 10), self._pdq(fake, 11)
        fake.put(kept)
        fake.put(dropped)
        fake.put(RemoteSignal(fake.unsupported_type, "ab" * 16))
        context = loopback_context(fake=fake)
        report = sync_exchange(db, "contract", context=context)
        assert report.ok, report.error
        assert _live(db, "contract") == {kept.value, dropped.value}
        assert report.skipped == 1 and report.skipped_types == {fake.unsupported_type: 1}
        fake.withdraw(dropped)
        report = sync_exchange(db, "contract", context=context)
        assert report.ok and report.withdrawn == 1
        assert _live(db, "contract") == {kept.value}  # within one sync
        info = get_exchange(db, "contract")
        assert (info.added, info.withdrawn, info.skipped, info.failed) == (2, 1, 1, 0)
        assert info.last_error is None and info.last_success_at is not None

    def test_an_error_is_recorded_with_a_backoff_and_nothing_half_applied(
        self, db: Database, exchange: SignalExchange, fake: FakeExchange
    ) -> None:
        fake.put(self._pdq(fake, 20))
        fake.fail_next(503)
        report = sync_exchange(db, "contract", context=loopback_context(fake=fake))
        assert not report.ok and report.error is not None and "503" in report.error
        info = get_exchange(db, "contract")
        assert info.last_error == report.error
        assert info.backoff_until is not None and info.checkpoint is None
        assert _live(db, "contract") == set()
        waiting = sync_exchange(db, "contract", context=loopback_context(fake=fake))
        assert waiting.error is not None and "backing off" in waiting.error
        report = sync_exchange(db, "contract", context=loopback_context(fake=fake), force=True)
        assert report.ok and _live(db, "contract") == {pdq_value(20)}
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(BankSignal)) == 1
