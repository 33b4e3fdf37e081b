"""What every fuzz target shares: the definition of a bug, and the atheris entry point.

A target is a module of this folder with ``TestOneInput(data: bytes) -> None``: it feeds the
bytes to one parser of untrusted input the way the service does, and lets an exception out
only when it is a bug. What is *not* a bug is the parser's documented refusal: an error of the
project's own tree (:class:`shieldwall.errors.ShieldwallError`), or the few refusals a target
names itself (the API's request validation, a JSON decoder's error before our code runs).
Anything else (``KeyError``, ``TypeError``, ``RecursionError``, ``MemoryError``, ...) escapes,
and atheris reports it with the input that caused it; a hang or a memory blow-up is reported by
libFuzzer itself (``-timeout``, ``-rss_limit_mb``).

Run one target: ``python fuzz/<target>.py [libFuzzer flags] [corpus dirs]`` (``make fuzz`` runs
them all). ``tests/test_fuzz_targets.py`` runs every target over its seed corpus once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Fuzz ``test_one_input`` with atheris; the command line is libFuzzer's."""
    import atheris  # noqa: PLC0415 - only the fuzzing run needs it

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
