"""The ``shieldwall`` command line: thin commands over the library.

Each command module registers itself on :data:`shieldwall.cli._app.app`; importing it here is
what makes the command exist.
"""

from __future__ import annotations

from shieldwall.cli import (  # noqa: F401  (registers the commands)
    at_rest,
    backfill,
    bank,
    check,
    demo,
    exchange,
    hash,
    ledger,
    match,
    people,
    protect,
    scan,
    serve,
    worker,
)
from shieldwall.cli._app import app, main, run

__all__ = ["app", "main", "run"]
