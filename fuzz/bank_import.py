"""Fuzz target: a bank import file (``shieldwall bank import``, ``POST .../import``): the
first byte picks the format (jsonl, csv, signals, threatexchange), the rest is the file.
``read_entries`` reads it record by record, and each signal is validated as ``add_entries``
validates it (``prepare_signal``).

A bug: an exception that is not a ShieldwallError (a bad line is a ``Rejected`` record, a bad
header an ``ImportFormatError``).
"""

from __future__ import annotations

import contextlib
import io

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from shieldwall.banks import BankFormat, NewEntry, prepare_signal, read_entries
    from shieldwall.errors import ShieldwallError

FORMATS = list(BankFormat)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    if not data:
        return
    fmt, body = FORMATS[data[0] % len(FORMATS)], data[1:]
    stream = io.StringIO(body.decode("utf-8", errors="replace"), newline="")
    try:
        for record in read_entries(stream, fmt, name="fuzz"):
            if not isinstance(record, NewEntry):
                continue
            for signal in record.signals:
                with contextlib.suppress(ShieldwallError):
                    prepare_signal(signal.type, signal.value, signal.quality)
    except ShieldwallError:
        return


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
