"""Fuzz target: a StopNCII ``FetchHashes`` answer (JSON) as it arrives: the plug-in's page and
record parsing, and each hash validated as a sync validates it (``fuzz/exchangelib.py``)."""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["shieldwall", "exchangelib"]):
    from exchangelib import read_answer
    from shieldwall.exchange.stopncii import StopNCIIExchange

SETTINGS = {"subscription_key": "sub", "fetch_key": "fetch"}


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    read_answer(StopNCIIExchange, SETTINGS, data)


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
