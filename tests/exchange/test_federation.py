"""Federation between Shieldwall instances: a partner's signed feed of a shared bank, pulled
incrementally; a tampered, replayed or stale page is refused; withdrawals propagate; who
shared what is recorded in the bank."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from bank_helpers import pdq, random_pdq
from fake_server import FakeServer, Reply, Request
from service_helpers import LiveService, service_settings, start_service
from shieldwall.banks import add_entry, create_bank, get_bank, get_entry, withdraw
from shieldwall.exchange import add_exchange, get_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context
from shieldwall.signals import Signal
from shieldwall.signals.vpdq import FrameHash, format_vpdq
from shieldwall.store import BankSignal, BankSignalValue, Database


def _keypair() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(seed).decode(), base64.b64encode(public).decode()


@pytest.fixture
def partner(db: Database, tmp_path: Path) -> Iterator[tuple[LiveService, str, str]]:
    """A partner instance sharing bank ``shared`` (not ``private``): (service, its public key,
    a key with the federate scope)."""
    seed, public = _keypair()
    settings = service_settings(
        tmp_path, db, federation_banks=["shared"], federation_signing_key=seed
    )
    live = start_service(db, settings)
    create_bank(db, "shared", "block")
    create_bank(db, "private", "block")
    try:
        yield live, public, live.key("federate")
    finally:
        live.stop()


def _values(db: Database, bank: str) -> set[str]:
    bank_id = get_bank(db, bank).id
    with db.session() as session:
        return set(
            session.scalars(
                select(BankSignal.value).where(BankSignal.bank_id == bank_id, BankSignal.live)
            )
        )


def _subscribe(db: Database, base_url: str, public: str, key: str, **extra: object) -> None:
    settings = {"base_url": base_url, "bank": "shared", "public_key": public, "api_key": key}
    add_exchange(
        db,
        "partner",
        "shieldwall",
        bank="from-partner",
        settings={**settings, **extra},
        bank_kind="review",
        schedule=False,
    )


def test_a_shared_bank_is_pulled_incrementally_with_withdrawals(
    db: Database, partner: tuple[LiveService, str, str]
) -> None:
    live, public, key = partner
    first, second = random_pdq(1), random_pdq(2)
    add_entry(db, "shared", [pdq(first)], external_ids=["case-1"])
    add_entry(db, "private", [pdq(random_pdq(3))], external_ids=["case-3"])
    _subscribe(db, live.url, public, key, page_size=1)
    assert sync_exchange(db, "partner", context=loopback_context()).ok
    assert _values(db, "from-partner") == {first}  # never the private bank
    assert get_bank(db, "from-partner").kind.value == "review"  # the trust chosen
    add_entry(db, "shared", [pdq(second)], external_ids=["case-2"])
    withdraw(db, "case-1", bank="shared")
    report = sync_exchange(db, "partner", context=loopback_context())
    assert report.ok and report.added == 1 and report.withdrawn == 1
    assert _values(db, "from-partner") == {second}
    partner_bank = get_bank(db, "from-partner").id
    with db.session() as session:
        row = session.scalar(
            select(BankSignal).where(
                BankSignal.bank_id == partner_bank, BankSignal.value == second, BankSignal.live
            )
        )
        assert row is not None
        entry = row.entry_id
    held = get_entry(db, entry)
    assert held.provenance.value == "partner"
    assert list(held.external_ids) == [f"partner:shared/{_shared_entry(db, second)}"]
    assert get_exchange(db, "partner").checkpoint is not None


def _shared_entry(db: Database, value: str) -> int:
    bank_id = get_bank(db, "shared").id
    with db.session() as session:
        found = session.scalar(
            select(BankSignal.entry_id).where(
                BankSignal.bank_id == bank_id, BankSignal.value == value
            )
        )
        assert found is not None
        return int(found)


def _proxy(
    live: LiveService, change: Callable[[dict[str, object]], dict[str, object]]
) -> FakeServer:
    """A server in front of the partner that alters each page's JSON with ``change``."""

    def respond(request: Request) -> Reply:
        answer = httpx.get(
            live.url + request.path, headers={"Authorization": request.headers["authorization"]}
        )
        return Reply(answer.status_code, json.dumps(change(answer.json())).encode())

    return FakeServer(respond)


def _tamper(page: dict[str, object]) -> dict[str, object]:
    payload = json.loads(str(page["payload"]))
    payload["records"][0]["value"] = random_pdq(99)
    return {**page, "payload": json.dumps(payload)}


def test_a_tampered_page_is_refused_and_nothing_applied(
    db: Database, partner: tuple[LiveService, str, str]
) -> None:
    live, public, key = partner
    add_entry(db, "shared", [pdq(random_pdq(1))], external_ids=["case-1"])
    with _proxy(live, _tamper) as proxy:
        _subscribe(db, proxy.url(""), public, key)
        report = sync_exchange(db, "partner", context=loopback_context())
    assert report.error is not None and "signature does not verify" in report.error
    assert _values(db, "from-partner") == set()
    assert get_exchange(db, "partner").checkpoint is None


def test_a_replayed_or_stale_page_is_refused(
    db: Database, partner: tuple[LiveService, str, str]
) -> None:
    live, public, key = partner
    add_entry(db, "shared", [pdq(random_pdq(1))], external_ids=["case-1"])
    first_page: list[dict[str, object]] = []

    def replay(page: dict[str, object]) -> dict[str, object]:
        if not first_page:
            first_page.append(page)
        return first_page[0]  # always the first page, whatever was asked

    with _proxy(live, replay) as proxy:
        _subscribe(db, proxy.url(""), public, key)
        assert sync_exchange(db, "partner", context=loopback_context()).ok
        add_entry(db, "shared", [pdq(random_pdq(2))], external_ids=["case-2"])
        report = sync_exchange(db, "partner", context=loopback_context(), force=True)
    assert report.error is not None and "replay" in report.error


def test_a_stale_page_is_refused(db: Database, partner: tuple[LiveService, str, str]) -> None:
    live, public, key = partner
    add_entry(db, "shared", [pdq(random_pdq(1))], external_ids=["case-1"])
    _subscribe(db, live.url, public, key)
    now = loopback_context()
    later = type(now)(policy=now.policy, timeout_seconds=5, clock=lambda: 4_000_000_000.0)
    report = sync_exchange(db, "partner", context=later)
    assert report.error is not None and "issued" in report.error and "replay" in report.error
    assert _values(db, "from-partner") == set()


def test_a_bank_not_shared_is_not_found_and_keys_need_the_scope(
    partner: tuple[LiveService, str, str],
) -> None:
    live, _public, key = partner
    client = live.client(key)
    assert client.get("/v1/federation/banks/private/feed").status_code == 404
    assert client.get("/v1/federation/banks/shared/feed").status_code == 200
    curator = live.client(live.key("curate"))
    assert curator.get("/v1/federation/banks/shared/feed").status_code == 403


def test_a_wrong_public_key_is_refused_at_once(db: Database) -> None:
    with pytest.raises(Exception, match="Ed25519 public key"):
        add_exchange(
            db,
            "partner",
            "shieldwall",
            settings={
                "base_url": "https://x.example",
                "bank": "b",
                "public_key": "abc",
                "api_key": "k",
            },
            schedule=False,
        )


def test_vpdq_frame_sets_are_shared_whole_and_withdrawn(
    db: Database, partner: tuple[LiveService, str, str]
) -> None:
    live, public, key = partner
    frames = format_vpdq([FrameHash(i, 100, random_pdq(40 + i), float(i)) for i in range(12)])
    add_entry(db, "shared", [Signal("vpdq", frames, 100)], external_ids=["video-1"])
    _subscribe(db, live.url, public, key)
    report = sync_exchange(db, "partner", context=loopback_context())
    assert report.ok and report.added == 1 and report.skipped == 0
    partner_bank = get_bank(db, "from-partner").id
    with db.session() as session:
        shared = session.scalars(
            select(BankSignalValue.value)
            .join(BankSignal, BankSignal.id == BankSignalValue.signal_id)
            .where(BankSignal.bank_id == partner_bank, BankSignal.live)
        ).all()
    assert shared == [frames]  # the frame set itself, through the signed page
    withdraw(db, "video-1", bank="shared")
    report = sync_exchange(db, "partner", context=loopback_context())
    assert report.ok and report.withdrawn == 1
    assert _values(db, "from-partner") == set()


def test_a_page_of_long_frame_sets_ends_early_and_the_next_carries_on(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shieldwall.exchange import federation

    seed, _ = _keypair()
    settings = service_settings(
        tmp_path, db, federation_banks=["shared"], federation_signing_key=seed
    )
    create_bank(db, "shared", "block")
    sets = [
        format_vpdq([FrameHash(i, 100, random_pdq(60 + 20 * n + i), float(i)) for i in range(8)])
        for n in range(3)
    ]
    for n, frames in enumerate(sets):
        add_entry(db, "shared", [Signal("vpdq", frames, 100)], external_ids=[f"video-{n}"])
    monkeypatch.setattr(federation, "_MAX_PAGE_CHARS", len(sets[0]) + 1)
    seen: list[str] = []
    after, more = 0, True
    while more:
        page = json.loads(federation.feed_page(db, settings, "shared", after=after).payload)
        assert 1 <= len(page["records"]) <= 2  # past the budget: the rest on the next page
        seen += [r["value"] for r in page["records"]]
        after, more = page["next"], page["more"]
    assert seen == sets
