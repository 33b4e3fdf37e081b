"""Hashing of the secrets people type: console passwords and notice PINs (argon2id).

The cost of a new hash comes from the settings (``password_hash_time_cost``,
``password_hash_memory_kib``, ``password_hash_parallelism``; argon2-cffi's defaults, RFC 9106's
low-memory profile). A stored hash carries its own parameters, so it verifies whatever the
settings are now; :func:`needs_rehash` tells when it was made with other ones.
"""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shieldwall.config import Settings

__all__ = ["dummy_hash", "hash_secret", "needs_rehash", "verify_secret"]

#: Verifies any argon2 hash: the parameters of the hash itself apply, not this object's.
_VERIFIER = PasswordHasher()


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def _for(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )


def hash_secret(secret: str, settings: Settings) -> str:
    """An argon2id hash of ``secret`` (salted: two hashes of one secret differ)."""
    return _for(settings).hash(secret)


def verify_secret(hashed: str, secret: str) -> bool:
    """Whether ``secret`` is the one ``hashed`` was made from (``False`` for a malformed hash)."""
    try:
        return _VERIFIER.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str, settings: Settings) -> bool:
    """Whether ``hashed`` was made with other parameters than the settings' ones."""
    return _for(settings).check_needs_rehash(hashed)


@lru_cache(maxsize=8)
def _dummy(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash(secrets.token_urlsafe(16))


def dummy_hash(settings: Settings) -> str:
    """A hash of a random secret, made at the settings' cost, to verify against when the
    account or notice is unknown: both answers then take the same work."""
    return _dummy(
        settings.password_hash_time_cost,
        settings.password_hash_memory_kib,
        settings.password_hash_parallelism,
    )
