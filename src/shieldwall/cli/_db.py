"""The commands' database, opened (and migrated) when a command first needs it.

Importing the database layer costs about half a second (SQLAlchemy, Alembic); commands that
never touch the database do not pay it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shieldwall.store import Database

__all__ = ["open_database"]


def open_database() -> Database:
    """The process's database for the current settings (:func:`shieldwall.store.open_database`)."""
    from shieldwall.store import open_database as _open  # noqa: PLC0415 (loaded when used)

    return _open()
