"""A third party's exchange plug-in goes through the same registry as the built-in ones, and
the sync's checkpoint compare-and-set refuses a page when another sync moved it meanwhile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from shieldwall.banks import get_bank
from shieldwall.errors import Conflict, UsageError
from shieldwall.exchange import (
    DEFAULT_EXCHANGES,
    Checkpoint,
    FetchPage,
    HashRecord,
    RemoteSignal,
    SignalExchange,
    add_exchange,
    all_exchange_kinds,
    get_exchange,
    get_exchange_kind,
    register,
    sync_exchange,
    unregister,
)
from shieldwall.exchange.contract import loopback_context, pdq_value
from shieldwall.signals import Exchange
from shieldwall.store import Database
from shieldwall.store.models import ExchangeRecord

#: What the plug-in's fetch does between its pages (a test hook).
BETWEEN_PAGES: list[object] = []


class MemorySettings(BaseModel):
    pages: int = 2


class MemoryExchange(SignalExchange):
    """A third party's plug-in: two pages of PDQ hashes from memory."""

    kind = "memory_test"
    signal_format = Exchange.THREATEXCHANGE
    settings_model = MemorySettings

    def fetch(self, checkpoint: Checkpoint | None) -> Iterator[FetchPage]:
        start = int((checkpoint or {}).get("page", 0))
        assert isinstance(self.settings, MemorySettings)
        for page in range(start, self.settings.pages):
            for hook in BETWEEN_PAGES:
                if page > start and callable(hook):
                    hook()
            record = HashRecord((RemoteSignal("pdq", pdq_value(page)),), refs=(f"r{page}",))
            yield FetchPage([record], {"page": page + 1}, more=page + 1 < self.settings.pages)


@pytest.fixture
def plugin() -> Iterator[type[MemoryExchange]]:
    register(MemoryExchange)
    BETWEEN_PAGES.clear()
    try:
        yield MemoryExchange
    finally:
        unregister(MemoryExchange.kind)
        BETWEEN_PAGES.clear()


def test_the_built_ins_and_a_third_partys_share_one_registry(
    db: Database, plugin: type[MemoryExchange]
) -> None:
    kinds = {k.kind for k in all_exchange_kinds()}
    assert {"stopncii", "ncmec", "shieldwall", "memory_test"} <= kinds
    assert len(DEFAULT_EXCHANGES) == 3  # the built-ins, listed as a third party would be
    assert get_exchange_kind("MEMORY_TEST") is plugin
    assert register(plugin) is plugin  # again: harmless

    class Impostor(MemoryExchange):
        kind = "memory_test"

    with pytest.raises(ValueError, match="already registered"):
        register(Impostor)
    with pytest.raises(UsageError, match="unknown exchange kind 'nope'"):
        get_exchange_kind("nope")
    add_exchange(db, "mem", "memory_test", schedule=False)
    assert sync_exchange(db, "mem", context=loopback_context()).ok
    assert get_bank(db, "mem").live_signals == 2
    assert get_exchange(db, "mem").checkpoint == {"page": 2}


def test_bad_settings_name_the_field(plugin: type[MemoryExchange], db: Database) -> None:
    with pytest.raises(UsageError, match="pages"):
        add_exchange(db, "mem", "memory_test", settings={"pages": "many"}, schedule=False)


def test_a_page_is_refused_when_another_sync_moved_the_checkpoint(
    db: Database, plugin: type[MemoryExchange]
) -> None:
    add_exchange(db, "mem", "memory_test", settings={"pages": 3}, schedule=False)

    def another_sync() -> None:
        with db.transaction() as session:
            row = session.query(ExchangeRecord).filter_by(name="mem").one()
            row.checkpoint = {"page": 3}

    BETWEEN_PAGES.append(another_sync)
    with pytest.raises(Conflict, match="another sync advanced its checkpoint"):
        sync_exchange(db, "mem", context=loopback_context())
    info = get_exchange(db, "mem")
    assert info.checkpoint == {"page": 3} and info.added == 1  # the first page only
    assert get_bank(db, "mem").live_signals == 1
