"""A fake partner Shieldwall instance on loopback: serves one bank's signed feed
(``/v1/federation/banks/{bank}/feed?after=&limit=``) from a log it keeps, with its key checked,
and errors to order (the contract's ``FakeExchange``)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_server import FakeServer, Reply, Request
from shieldwall.exchange import Feedback, RemoteSignal

KEY = "federate-key-1"
BANK = "shared"


@dataclass
class FakePartner:
    log: list[dict[str, Any]] = field(default_factory=list)
    entries: dict[str, int] = field(default_factory=dict)
    failures: list[Reply] = field(default_factory=list)
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    server: FakeServer | None = None

    pdq_type = "pdq"
    exact_type = "video_md5"
    unsupported_type = "tlsh"

    def public_key(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    def put(self, signal: RemoteSignal, refs: Sequence[str] = ()) -> None:
        entry = self.entries.setdefault(signal.value, len(self.entries) + 1)
        self.log.append(
            {
                "type": signal.type,
                "value": signal.value,
                "ref": f"{BANK}/{entry}",
                "withdrawn": False,
            }
        )

    def withdraw(self, signal: RemoteSignal) -> None:
        entry = self.entries[signal.value]
        self.log.append(
            {
                "type": signal.type,
                "value": signal.value,
                "ref": f"{BANK}/{entry}",
                "withdrawn": True,
            }
        )

    def put_malformed(self) -> None:
        self.log.append({"type": "pdq"})

    def fail_next(self, status: int, retry_after: float | None = None) -> None:
        if status == 0:
            self.failures.append(Reply(200, b"{}", delay=2.0))
            return
        headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
        self.failures.append(Reply(status, b'{"error": "x", "message": "failure"}', headers))

    def feedback(self) -> list[tuple[str, Feedback]]:
        return []

    def settings(self) -> dict[str, Any]:
        assert self.server is not None
        return {
            "base_url": self.server.url(""),
            "bank": BANK,
            "public_key": self.public_key(),
            "api_key": KEY,
            "page_size": 2,
        }

    def respond(self, request: Request) -> Reply:
        if self.failures:
            return self.failures.pop(0)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return Reply(401, b'{"error": "unauthenticated", "message": "no key"}')
        url = urlsplit(request.path)
        if url.path != f"/v1/federation/banks/{BANK}/feed":
            return Reply(404, b'{"error": "not_found", "message": "no such bank"}')
        query = parse_qs(url.query)
        after = int(query.get("after", ["0"])[0])
        limit = int(query.get("limit", ["1000"])[0])
        page = self.log[after : after + limit]
        payload = json.dumps(
            {
                "version": 1,
                "instance": "fake-partner",
                "bank": BANK,
                "after": after,
                "next": after + len(page),
                "more": after + len(page) < len(self.log),
                "issued_at": int(time.time()),
                "records": page,
            }
        )
        signature = base64.b64encode(self.key.sign(payload.encode())).decode()
        return Reply(200, json.dumps({"payload": payload, "signature": signature}).encode())


def serve() -> FakePartner:
    fake = FakePartner()
    fake.server = FakeServer(fake.respond)
    return fake
