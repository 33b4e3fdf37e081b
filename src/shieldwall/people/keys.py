"""API keys: created with scopes and shown once, stored as a SHA-256 digest, revocable.

A key reads ``sw_<prefix>_<secret>``: the prefix (8 hex digits) finds the row and names the
key in lists and audit rows; the secret (32 random bytes, URL-safe base64) is only ever compared
by its digest, in constant time. Keys are random, so a plain SHA-256 digest is as strong as a
slow password hash here, and costs microseconds per request.

The ``shieldwall key`` commands and the API's ``/v1/keys`` routes both call these functions;
:class:`KeyCache` authenticates the bearer token of every ``/v1`` request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shieldwall.config import get_settings
from shieldwall.errors import Conflict, NotFound, UsageError
from shieldwall.people.roles import Actor, Role
from shieldwall.people.scopes import Scope, parse_scopes
from shieldwall.replicas import Revocations
from shieldwall.store import Database
from shieldwall.store.models import ApiKey, utcnow

__all__ = [
    "KeyCache",
    "KeyInfo",
    "actor_for_key",
    "create_key",
    "get_key",
    "list_keys",
    "revoke_key",
]

_PREFIX = "sw_"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as lists show it (never its secret)."""

    id: int
    prefix: str
    name: str
    scopes: list[Scope]
    rate_limit: float | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        """Whether the key was revoked."""
        return self.revoked_at is not None

    def allows(self, scope: Scope) -> bool:
        """Whether the key has ``scope`` (``admin`` has every scope)."""
        return scope in self.scopes or (Scope.ADMIN in self.scopes)

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "id": self.id,
            "prefix": self.prefix,
            "name": self.name,
            "scopes": [s.value for s in self.scopes],
            "rate_limit": self.rate_limit,
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def actor_for_key(key: KeyInfo) -> Actor:
    """The :class:`Actor` an API key acts as in case handling: ``key:<prefix>`` with
    ``admin`` -> admin and ``review`` -> reviewer (other scopes give no case role). The one
    place keys map to roles; console sessions supply their own actors
    (:func:`shieldwall.people.accounts.actor_for`)."""
    roles: set[Role] = set()
    if Scope.ADMIN in key.scopes:
        roles.add(Role.ADMIN)
    if Scope.REVIEW in key.scopes:
        roles.add(Role.REVIEWER)
    return Actor(f"key:{key.prefix}", frozenset(roles))


def _info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        row.id,
        row.prefix,
        row.name,
        parse_scopes(list(row.scopes)),
        row.rate_limit,
        row.created_at,
        row.revoked_at,
    )


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(_PREFIX):
        return None
    prefix, sep, secret = token[len(_PREFIX) :].partition("_")
    if not sep or len(prefix) != 8 or not secret:
        return None
    return prefix, secret


def create_key(
    db: Database,
    name: str,
    scopes: Sequence[str] | str,
    *,
    rate_limit: float | None = None,
) -> tuple[KeyInfo, str]:
    """Create a key; returns it and its full secret token, which is not stored and cannot be
    shown again."""
    try:
        chosen = parse_scopes(scopes if isinstance(scopes, str) else [str(s) for s in scopes])
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not chosen:
        raise UsageError("a key needs at least one scope")
    if rate_limit is not None and rate_limit <= 0:
        raise UsageError("a key's rate limit must be a positive number of requests per second")
    if not name.strip() or len(name) > 200:
        raise UsageError("a key's name must be 1-200 characters")
    with db.transaction() as session:
        while True:
            prefix = secrets.token_hex(4)
            if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is None:
                break
        secret = secrets.token_urlsafe(32)
        row = ApiKey(
            prefix=prefix,
            digest=_digest(secret),
            name=name,
            scopes=[s.value for s in chosen],
            rate_limit=rate_limit,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return _info(row), f"{_PREFIX}{prefix}_{secret}"


def list_keys(db: Database, *, include_revoked: bool = True) -> list[KeyInfo]:
    """Every key, oldest first."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with db.session() as session:
        return [_info(r) for r in session.scalars(query)]


def _find(db: Database, key: str | int) -> ApiKey:
    with db.session() as session:
        row = None
        if isinstance(key, str):  # a prefix (8 hex digits, possibly all digits) or a key
            prefix = key.removeprefix(_PREFIX).split("_")[0]
            row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if row is None and (isinstance(key, int) or key.isdigit()):
            row = session.get(ApiKey, int(key))
        if row is None:
            raise NotFound(f"no API key {key!r}")
        session.expunge(row)
        return row


def get_key(db: Database, key: str | int) -> KeyInfo:
    """One key by id or prefix."""
    return _info(_find(db, key))


def revoke_key(db: Database, key: str | int, *, revocations: Revocations | None = None) -> KeyInfo:
    """Revoke a key (by id or prefix); revoking twice is harmless. ``revocations`` tells every
    replica at once, after the commit (default: through ``redis_url`` when it is set). The last
    active key with the ``admin`` scope cannot be revoked (:class:`~shieldwall.errors.Conflict`):
    nobody could manage keys over the API any more."""
    found = _find(db, key)
    with db.transaction() as session:
        row = session.get(ApiKey, found.id)
        assert row is not None
        if row.revoked_at is None:
            if Scope.ADMIN.value in row.scopes:
                # Locked (PostgreSQL; SQLite has one writer): two revocations at once cannot
                # both see another admin key left.
                active = session.scalars(
                    select(ApiKey).where(ApiKey.revoked_at.is_(None)).with_for_update()
                )
                if not [k for k in active if k.id != row.id and Scope.ADMIN.value in k.scopes]:
                    raise Conflict(
                        f"key {row.prefix} is the last active admin key and cannot be revoked: "
                        "create another admin key first (shieldwall key create --scopes admin)"
                    )
            row.revoked_at = utcnow()
        session.flush()
        info = _info(row)
    if revocations is None:
        revocations = Revocations.from_settings(get_settings())
        try:
            revocations.announce(info.prefix)
        finally:
            revocations.close()
    else:
        revocations.announce(info.prefix)
    return info


class KeyCache:
    """Authenticates bearer tokens, caching what it read for ``ttl`` seconds so that a busy
    service does not query the database on every request.

    A revocation made by another process takes effect here within ``ttl``, or at once when
    ``revocations`` is shared (Redis) and :meth:`follow_revocations` runs in a thread.
    """

    def __init__(self, db: Database, ttl: float, revocations: Revocations | None = None) -> None:
        self.db = db
        self.ttl = ttl
        self.revocations = revocations or Revocations()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, KeyInfo | None, bytes]] = {}
        #: Bumped by every :meth:`forget`: a read that began before one is not cached.
        self._generation = 0

    def authenticate(self, token: str) -> KeyInfo | None:
        """The key a token names, or ``None`` when it is malformed, unknown, wrong or
        revoked."""
        parts = _split(token)
        if parts is None:
            return None
        prefix, secret = parts
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(prefix)
            generation = self._generation
        if cached is None or now - cached[0] > self.ttl:
            with self.db.session() as session:
                row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
                cached = (now, _info(row), bytes(row.digest)) if row else (now, None, b"")
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                if generation == self._generation:
                    self._cache[prefix] = cached
        _, info, digest = cached
        if info is None or info.revoked or not hmac.compare_digest(digest, _digest(secret)):
            return None
        return info

    def forget(self, prefix: str | None = None) -> None:
        """Drop the cached keys (one, or all) so that the next request reads them again."""
        with self._lock:
            self._generation += 1
            if prefix is None:
                self._cache.clear()
            else:
                self._cache.pop(prefix, None)

    def follow_revocations(self, stop: threading.Event) -> None:
        """Forget each key another replica announces revoked, until ``stop`` is set (a
        thread's target; returns at once when revocations are not shared)."""
        self.revocations.follow(self.forget, stop)
