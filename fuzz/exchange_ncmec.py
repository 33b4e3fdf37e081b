"""Fuzz target: an NCMEC hash-sharing ``/v2/entries`` answer (XML) as it arrives: expat, the
plug-in's entry and fingerprint parsing, and each hash validated as a sync validates it
(``fuzz/exchangelib.py``)."""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["shieldwall", "exchangelib"]):
    from exchangelib import read_answer
    from shieldwall.exchange.ncmec import NCMECExchange

# Members named: the seeds' entries are theirs, and the member filter is read too.
SETTINGS = {"username": "esp", "password": "secret", "only_members": [11, 12]}


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    read_answer(NCMECExchange, SETTINGS, data)


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
