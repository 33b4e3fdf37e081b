"""Every built-in exchange passes the exchange contract against its fake server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

import fake_federation
import fake_ncmec
import fake_stopncii
from shieldwall.banks import get_bank
from shieldwall.exchange import RemoteSignal, SignalExchange, sync_exchange
from shieldwall.exchange.contract import ExchangeContract, loopback_context, pdq_value
from shieldwall.signals.vpdq import FrameHash, format_vpdq
from shieldwall.store import BankSignal, BankSignalValue, Database


class TestStopNCII(ExchangeContract):
    kind = "stopncii"

    @pytest.fixture
    def fake(self) -> Iterator[fake_stopncii.FakeStopNCII]:
        fake = fake_stopncii.serve()
        assert fake.server is not None
        with fake.server:
            yield fake


class TestNCMEC(ExchangeContract):
    kind = "ncmec"

    @pytest.fixture
    def fake(self) -> Iterator[fake_ncmec.FakeNCMEC]:
        fake = fake_ncmec.serve()
        assert fake.server is not None
        with fake.server:
            yield fake


class TestFederation(ExchangeContract):
    kind = "shieldwall"

    @pytest.fixture
    def fake(self) -> Iterator[fake_federation.FakePartner]:
        fake = fake_federation.serve()
        assert fake.server is not None
        with fake.server:
            yield fake

    def test_a_vpdq_frame_set_is_banked_whole_and_withdrawn(
        self, db: Database, exchange: SignalExchange, fake: fake_federation.FakePartner
    ) -> None:
        frames = format_vpdq([FrameHash(i, 100, pdq_value(30 + i), float(i)) for i in range(10)])
        video = RemoteSignal("vpdq", frames)
        fake.put(video)
        context = loopback_context(fake=fake)
        report = sync_exchange(db, "contract", context=context)
        assert report.ok and report.added == 1 and report.skipped == 0, report
        bank = get_bank(db, "contract").id
        with db.session() as session:
            stored = session.scalars(
                select(BankSignalValue.value)
                .join(BankSignal, BankSignal.id == BankSignalValue.signal_id)
                .where(BankSignal.bank_id == bank, BankSignal.live)
            ).all()
        assert stored == [frames]
        fake.withdraw(video)
        report = sync_exchange(db, "contract", context=context)
        assert report.ok and report.withdrawn == 1
        with db.session() as session:
            live = session.scalar(
                select(BankSignal.id).where(BankSignal.bank_id == bank, BankSignal.live)
            )
        assert live is None
