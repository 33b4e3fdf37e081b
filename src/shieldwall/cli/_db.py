"""The commands' database, opened (and migrated) when a command first needs it.

Importing the database layer costs about half a second (SQLAlchemy, Alembic); commands that
never touch the database do not pay it.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shieldwall.store import Database

__all__ = ["cli_actor", "open_database"]


def open_database() -> Database:
    """The process's database for the current settings (:func:`shieldwall.store.open_database`),
    its audit chain keyed and anchored as the settings say (:func:`shieldwall.audit.configure`)."""
    from shieldwall.audit import configure  # noqa: PLC0415 (loaded when used)
    from shieldwall.config import get_settings  # noqa: PLC0415
    from shieldwall.store import open_database as _open  # noqa: PLC0415

    db = _open()
    if "audit" not in db.extensions:
        configure(db, get_settings())
    return db


def cli_actor() -> str:
    """The actor the audit log records for a change made with the command line:
    ``cli:<os user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "unknown"
    return f"cli:{user}"
