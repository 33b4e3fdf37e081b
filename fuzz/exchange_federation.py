"""Fuzz target: a federation partner's signed feed page as it arrives. The first byte picks
what the fuzzer controls:

- even: the whole answer (the envelope: JSON, ``payload``, base64 ``signature``);
- odd: the payload only, which the harness signs with the partner's key (what a partner, or
  a partner's compromised key, can send: the signature verifies, the content is anything).

The page then goes through the plug-in's checks (bank, cursor, age, instance) and records, and
each hash is validated as a sync validates it (``fuzz/exchangelib.py``).
"""

from __future__ import annotations

import base64
import json

import atheris
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

with atheris.instrument_imports(include=["shieldwall", "exchangelib"]):
    from exchangelib import read_answer
    from shieldwall.exchange.federation import FederationExchange

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()
SETTINGS = {
    "base_url": "https://partner.example",
    "bank": "shared",
    "public_key": PUBLIC,
    "api_key": "federate-key-1",
}


def signed(payload: bytes) -> bytes:
    """The feed page carrying ``payload``, signed with the partner's key."""
    text = payload.decode("utf-8", errors="replace")
    signature = base64.b64encode(KEY.sign(text.encode())).decode()
    return json.dumps({"payload": text, "signature": signature}).encode()


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    if not data:
        return
    body = signed(data[1:]) if data[0] % 2 else data[1:]
    read_answer(FederationExchange, SETTINGS, body)


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
