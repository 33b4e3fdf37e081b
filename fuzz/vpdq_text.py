"""Fuzz target: vPDQ text (Meta's ``frame,quality,pdq,timestamp`` lines), as a bank import, an
exchange record or an API lookup gives it: ``parse_vpdq`` and the vpdq signal type's ``parse``.

A bug: an exception that is not a ShieldwallError, or text that parses but whose canonical form
(``format_vpdq``) does not parse back to the same frames.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["shieldwall"]):
    from shieldwall.errors import ShieldwallError
    from shieldwall.signals import get_signal_type
    from shieldwall.signals.frame_hash import format_vpdq, parse_vpdq

VPDQ = get_signal_type("vpdq")


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    text = data.decode("utf-8", errors="replace")
    try:
        frames = parse_vpdq(text)
    except ShieldwallError:
        return
    again = parse_vpdq(format_vpdq(frames))
    if [(f.number, f.quality, f.pdq) for f in again] != [
        (f.number, f.quality, f.pdq) for f in frames
    ]:
        raise AssertionError("format_vpdq does not read back")
    try:
        VPDQ.parse(text)
    except ShieldwallError:
        return


if __name__ == "__main__":
    from fuzzlib import main

    main(TestOneInput)
