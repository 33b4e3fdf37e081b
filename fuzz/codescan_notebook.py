"""Fuzz target: a Jupyter notebook given to the code scanner (the notebook reader: JSON, cells,
magics and shell lines, outputs, and the Python and shell readers they feed).

A bug: an exception that is not a ScanInputError (the readers' contract,
``tests/codescan/test_readers_contract.py``), or facts whose locations name another file.
"""

from __future__ import annotations

import io

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from shieldwall.codescan.pyfacts import DecodeBudget
    from shieldwall.codescan.readers import Source, reader_for
    from shieldwall.config import Settings
    from shieldwall.errors import ScanInputError

SETTINGS = Settings()
NAME = "fuzz/notebook.ipynb"


def read(name: str, data: bytes) -> None:
    """Read ``data`` as the file ``name`` with the reader that claims it, as a scan does."""
    source = Source(name, len(data), lambda: io.BytesIO(data))
    reader = reader_for(source, data[:8192])
    try:
        facts = reader.read(source, SETTINGS, DecodeBudget(SETTINGS.codescan_max_decode_depth))
    except ScanInputError:
        return
    for fragment in facts.fragments:
        if fragment.location.path != name:
            raise AssertionError(f"a fragment of {name} located in {fragment.location.path}")


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    read(NAME, data)


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
