"""Keeping the stored hashes safe: sealing at rest with keys from a file, key rotation, and
backup and restore of the whole database (docs/security.md, "Hashes at rest").

The machinery lives in the store (:mod:`shieldwall.store.sealing`, :mod:`shieldwall.store.rekey`,
:mod:`shieldwall.store.backup`); this is what the faces call.

    >>> report = reseal(open_database(), data_dir)           # doctest: +SKIP
"""

from __future__ import annotations

from shieldwall.errors import ConfigError
from shieldwall.store.backup import BackupReport, backup, restore
from shieldwall.store.database import Database
from shieldwall.store.rekey import KeyReport, key_report, pending_rotation, reseal
from shieldwall.store.sealing import Keyring, new_key_line

__all__ = [
    "BackupReport",
    "KeyReport",
    "Keyring",
    "backup",
    "check_sealing",
    "key_report",
    "new_key_line",
    "reseal",
    "restore",
]


def check_sealing(db: Database) -> None:
    """Refuse to serve (:class:`~shieldwall.errors.ConfigError`) while stored values are not
    all sealed with the current key, or are sealed and no keys are configured: lookups by value
    would miss the rows of another key (see :func:`~shieldwall.store.rekey.pending_rotation`)."""
    problem = pending_rotation(db)
    if problem is not None:
        raise ConfigError(problem)
