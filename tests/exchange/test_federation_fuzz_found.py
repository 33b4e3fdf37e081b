"""Feed pages the federation fuzzer found (``fuzz/exchange_federation.py``) that escaped the
plug-in as an unexpected exception: a page whose signature verifies but whose payload is not
what a partner sends. Each is now an ``ExchangeProtocolError`` that the sync reports, with
nothing applied and the checkpoint kept."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_server import FakeServer, Reply, Request
from shieldwall.exchange import add_exchange, get_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context
from shieldwall.store import Database

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()

# The fuzzer's payload (minimised): a record cut off in the middle, signed by the partner.
NOT_JSON = '{"after":0,"bank":"shared","records":[{"ref":"share":true}],"version":1}'


def _page(**change: object) -> str:
    page = {"version": 1, "instance": "i", "bank": "shared", "after": 0, "next": 0}
    page |= {"more": False, "issued_at": int(time.time()), "records": []}
    return json.dumps(page | change)


def _signed(payload: str) -> bytes:
    signature = base64.b64encode(KEY.sign(payload.encode())).decode()
    return json.dumps({"payload": payload, "signature": signature}).encode()


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (NOT_JSON, "the signed payload is not JSON"),
        ("", "the signed payload is not JSON"),
        # Found writing the target (a ValueError, a TypeError, or NaN past the age check):
        (_page(issued_at="1800000000"), "issued_at is not a time"),
        (_page(issued_at=None), "issued_at is not a time"),
        (_page(issued_at=float("nan")), "issued_at is not a time"),
        (_page(issued_at=10**400), "issued_at is not a time"),
        (_page(next="2"), "next is not a log sequence number"),
        (_page(next=None), "next is not a log sequence number"),
    ],
)
def test_a_signed_page_that_is_not_what_a_partner_sends_is_a_protocol_error(
    db: Database, payload: str, problem: str
) -> None:
    def respond(request: Request) -> Reply:
        return Reply(200, _signed(payload), {"Content-Type": "application/json"})

    with FakeServer(respond) as server:
        add_exchange(
            db,
            "partner",
            "shieldwall",
            bank="from-partner",
            settings={
                "base_url": server.url(""),
                "bank": "shared",
                "public_key": PUBLIC,
                "api_key": "federate-key-1",
            },
            bank_kind="review",
            schedule=False,
        )
        report = sync_exchange(db, "partner", context=loopback_context())
    assert report.error is not None and problem in report.error
    assert get_exchange(db, "partner").checkpoint is None
