"""Exchange answers that Python's JSON decoder refuses with something else than a
``JSONDecodeError`` (found probing ``fuzz/exchange_stopncii.py`` and
``fuzz/exchange_federation.py``): nesting thousands deep (``RecursionError``) and a number of
5000 digits (``ValueError``) escaped the plug-ins and ended the sync with an unexpected
exception. They are ``ExchangeProtocolError``\\ s now: the sync reports them, keeps its
checkpoint and applies nothing."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_server import FakeServer, Reply, Request
from shieldwall.exchange import add_exchange, get_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context
from shieldwall.store import Database

DEEP = "[" * 3000 + "]" * 3000
HUGE = '{"hashRecords": [], "nextSetTimestamp": ' + "9" * 5000 + "}"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()


def _sync(db: Database, kind: str, settings: dict[str, object], body: bytes) -> str | None:
    def respond(request: Request) -> Reply:
        return Reply(200, body, {"Content-Type": "application/json"})

    with FakeServer(respond) as server:
        add_exchange(
            db, "x", kind, settings={"base_url": server.url(""), **settings}, schedule=False
        )
        report = sync_exchange(db, "x", context=loopback_context())
    assert get_exchange(db, "x").checkpoint is None
    return report.error


@pytest.mark.parametrize("body", [DEEP, HUGE])
def test_a_stopncii_answer_python_cannot_read_is_not_json(db: Database, body: str) -> None:
    settings: dict[str, object] = {"subscription_key": "s", "fetch_key": "f"}
    error = _sync(db, "stopncii", settings, body.encode())
    assert error is not None and "the answer is not JSON" in error


def _signed(payload: str) -> str:
    signature = base64.b64encode(KEY.sign(payload.encode())).decode()
    return json.dumps({"payload": payload, "signature": signature})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (DEEP, "not a signed feed page"),
        ('{"payload": ' + "9" * 5000 + "}", "not a signed feed page"),
        (_signed(DEEP), "the signed payload is not JSON"),
        (_signed(HUGE), "the signed payload is not JSON"),
    ],
)
def test_a_feed_page_python_cannot_read_is_a_protocol_error(
    db: Database, body: str, problem: str
) -> None:
    settings: dict[str, object] = {"bank": "shared", "public_key": PUBLIC, "api_key": "k"}
    error = _sync(db, "shieldwall", settings, body.encode())
    assert error is not None and problem in error
