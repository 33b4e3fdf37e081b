"""Console users: argon2 passwords, lock-out, sessions with sliding expiry and CSRF tokens.

Every login (success, failure, lock-out), logout and change to a person (created, roles,
password, disabled) is an event of the hash-chained audit log, written in the same transaction
as the change. A failed login never says whether the username exists: unknown usernames cost
one argon2 verification like known ones, and they are "locked" after the same number of
failures (counted in the process), so the lock-out message tells nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.config import Settings, get_settings
from shieldwall.errors import AccountLocked, Conflict, LoginFailed, NotFound, UsageError
from shieldwall.people.passwords import dummy_hash, hash_secret, needs_rehash, verify_secret
from shieldwall.people.roles import Actor, Role
from shieldwall.store import Database
from shieldwall.store.models import LoginSession, Person, utcnow

__all__ = [
    "LOGIN_FAILED_MESSAGE",
    "PersonInfo",
    "SessionInfo",
    "actor_for",
    "authenticate",
    "check_csrf",
    "create_person",
    "disable",
    "get_person",
    "get_session",
    "list_people",
    "logout",
    "parse_roles",
    "set_password",
    "set_preferences",
    "set_roles",
]

#: The one answer to a wrong username or a wrong password.
LOGIN_FAILED_MESSAGE = "wrong username or password"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_phantom_lock = threading.Lock()
#: Failures of unknown usernames in this process: name -> (count, locked until).
_phantom: dict[str, tuple[int, datetime | None]] = {}
_PHANTOM_MAX = 10_000


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """A console user as the library shows it (never the password hash)."""

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    disabled: bool
    #: Until when the account refuses logins (``None``: not locked now).
    locked_until: datetime | None
    reveal_previews: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session: who is signed in and the CSRF token of its forms."""

    id: int
    person: PersonInfo
    csrf_token: str
    expires_at: datetime


def _info(p: Person) -> PersonInfo:
    locked = p.locked_until if p.locked_until is not None and p.locked_until > utcnow() else None
    return PersonInfo(
        p.id,
        p.username,
        p.display_name,
        frozenset(Role(r) for r in p.roles),
        p.disabled,
        locked,
        p.reveal_previews,
        p.created_at,
    )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def _csrf(secret: str) -> str:
    return hmac.new(secret.encode("ascii"), b"shieldwall-csrf", hashlib.sha256).hexdigest()


def parse_roles(roles: str | Iterable[str]) -> frozenset[Role]:
    """Roles from ``"reviewer,senior_reviewer"`` or a list of names; unknown names are a
    :class:`UsageError` naming them and the valid ones."""
    names = [r.strip() for r in (roles.split(",") if isinstance(roles, str) else roles)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in {r.value for r in Role}]
    if unknown:
        valid = ", ".join(r.value for r in Role)
        raise UsageError(f"unknown role(s) {', '.join(unknown)}; roles are: {valid}")
    return frozenset(Role(n) for n in names)


def _check_password(password: str, username: str, settings: Settings) -> None:
    if len(password) < settings.password_min_length:
        raise UsageError(
            f"a password needs at least {settings.password_min_length} characters "
            f"(this one has {len(password)})"
        )
    if password.lower() == username.lower() or len(set(password)) < 4:
        raise UsageError("this password is too easy to guess (the username or too few characters)")


def _person(session: Session, username: str) -> Person:
    row = session.scalar(select(Person).where(Person.username == username))
    if row is None:
        raise NotFound(f"no person with the username {username!r}")
    return row


def create_person(
    db: Database,
    username: str,
    password: str,
    roles: str | Iterable[str],
    *,
    display_name: str | None = None,
    by: str = "system",
    settings: Settings | None = None,
) -> PersonInfo:
    """Create a console user. ``by`` is the actor recorded in the audit log."""
    settings = settings or get_settings()
    if not _USERNAME.match(username):
        raise UsageError(
            "a username is 1-64 characters: lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    chosen = parse_roles(roles)
    _check_password(password, username, settings)
    hashed = hash_secret(password, settings)
    with db.transaction() as session:
        if session.scalar(select(Person.id).where(Person.username == username)) is not None:
            raise Conflict(f"a person with the username {username!r} exists already")
        row = Person(
            username=username,
            display_name=(display_name or username).strip()[:200] or username,
            roles=sorted(r.value for r in chosen),
            password_hash=hashed,
            failed_logins=0,
            disabled=False,
            reveal_previews=False,
        )
        session.add(row)
        session.flush()
        record_event(session, by, "person.create", f"user:{row.id}", {"roles": sorted(row.roles)})
        return _info(row)


def get_person(db: Database, username: str) -> PersonInfo:
    """One person by username (:class:`NotFound` when none)."""
    with db.session() as session:
        return _info(_person(session, username))


def list_people(db: Database) -> list[PersonInfo]:
    """Every console user, by username."""
    with db.session() as session:
        return [_info(p) for p in session.scalars(select(Person).order_by(Person.username))]


def set_password(
    db: Database,
    username: str,
    password: str,
    *,
    by: str = "system",
    settings: Settings | None = None,
) -> None:
    """Change a password: clears the lock-out and ends the person's sessions."""
    settings = settings or get_settings()
    _check_password(password, username, settings)
    hashed = hash_secret(password, settings)
    with db.transaction() as session:
        row = _person(session, username)
        row.password_hash = hashed
        row.failed_logins = 0
        row.locked_until = None
        session.execute(delete(LoginSession).where(LoginSession.person_id == row.id))
        record_event(session, by, "person.password", f"user:{row.id}", {})


def set_roles(
    db: Database, username: str, roles: str | Iterable[str], *, by: str = "system"
) -> PersonInfo:
    """Replace a person's roles (recorded with the old and new roles)."""
    chosen = parse_roles(roles)
    with db.transaction() as session:
        row = _person(session, username)
        old = sorted(row.roles)
        row.roles = sorted(r.value for r in chosen)
        record_event(session, by, "person.roles", f"user:{row.id}", {"from": old, "to": row.roles})
        return _info(row)


def disable(db: Database, username: str, *, by: str = "system") -> PersonInfo:
    """Disable a person: no more logins, and their sessions end now."""
    with db.transaction() as session:
        row = _person(session, username)
        row.disabled = True
        session.execute(delete(LoginSession).where(LoginSession.person_id == row.id))
        record_event(session, by, "person.disable", f"user:{row.id}", {})
        return _info(row)


def set_preferences(db: Database, person_id: int, *, reveal_previews: bool) -> PersonInfo:
    """Save a person's console preferences."""
    with db.transaction() as session:
        row = session.get(Person, person_id)
        if row is None:
            raise NotFound(f"no person with the id {person_id}")
        if row.reveal_previews != reveal_previews:
            row.reveal_previews = reveal_previews
            record_event(
                session,
                f"user:{row.id}",
                "person.preferences",
                f"user:{row.id}",
                {"reveal_previews": reveal_previews},
            )
        return _info(row)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return (
        "too many failed logins: this account is locked; "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}"
    )


def _unknown_user(username: str, password: str, settings: Settings) -> None:
    """Spend the work of a real check and count the failure as if the name existed."""
    verify_secret(dummy_hash(settings), password)
    now = utcnow()
    with _phantom_lock:
        if len(_phantom) >= _PHANTOM_MAX:
            _phantom.clear()
        count, until = _phantom.get(username, (0, None))
        if until is not None and until > now:
            raise AccountLocked(_locked_message(until, now))
        count += 1
        if count >= settings.login_max_failures:
            _phantom[username] = (0, now + timedelta(minutes=settings.login_lockout_minutes))
        else:
            _phantom[username] = (count, None)
    raise LoginFailed(LOGIN_FAILED_MESSAGE)


def authenticate(
    db: Database,
    username: str,
    password: str,
    *,
    settings: Settings | None = None,
) -> tuple[SessionInfo, str]:
    """Log in: a new session and its token (for the cookie; only its digest is stored).

    Raises :class:`LoginFailed` (the same message for an unknown username and a wrong
    password, a disabled account included) or :class:`AccountLocked` after
    ``login_max_failures`` wrong passwords in a row, for ``login_lockout_minutes``.
    """
    settings = settings or get_settings()
    username = username.strip().lower()
    with db.session() as session:
        known = session.scalar(select(Person).where(Person.username == username))
        hashed = known.password_hash if known is not None else None
    if known is None or hashed is None:
        _unknown_user(username, password, settings)
    assert hashed is not None
    ok = verify_secret(hashed, password)
    error: LoginFailed | AccountLocked | None = None
    with db.transaction() as session:
        row = _person(session, username)
        now = utcnow()
        subject = f"user:{row.id}"
        if row.locked_until is not None and row.locked_until > now:
            record_event(session, subject, "login.refused_locked", subject, {})
            error = AccountLocked(_locked_message(row.locked_until, now))
        elif not ok or row.disabled:
            row.failed_logins += 1
            details: dict[str, object] = {"failures": row.failed_logins}
            if row.disabled:
                details["disabled"] = True
            record_event(session, subject, "login.failure", subject, details)
            if row.failed_logins >= settings.login_max_failures:
                row.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                row.failed_logins = 0
                record_event(
                    session,
                    subject,
                    "login.lockout",
                    subject,
                    {"until": row.locked_until.isoformat()},
                )
                error = AccountLocked(_locked_message(row.locked_until, now))
            else:
                error = LoginFailed(LOGIN_FAILED_MESSAGE)
        else:
            row.failed_logins = 0
            row.locked_until = None
            session.execute(  # the person's expired sessions go (the others end when used)
                delete(LoginSession).where(
                    LoginSession.person_id == row.id, LoginSession.expires_at <= now
                )
            )
            if needs_rehash(hashed, settings):
                row.password_hash = hash_secret(password, settings)
            token = secrets.token_urlsafe(32)
            secret = secrets.token_hex(32)
            login = LoginSession(
                digest=_digest(token),
                person_id=row.id,
                csrf_secret=secret,
                created_at=now,
                last_seen=now,
                expires_at=now + timedelta(minutes=settings.session_idle_minutes),
            )
            session.add(login)
            session.flush()
            record_event(session, subject, "login.success", subject, {"session": login.id})
            info = SessionInfo(login.id, _info(row), _csrf(secret), login.expires_at)
    if error is not None:
        raise error
    return info, token


def get_session(
    db: Database, token: str, *, settings: Settings | None = None
) -> SessionInfo | None:
    """The live session of a cookie token, its expiry moved on (sliding); ``None`` when the
    token is unknown, expired, or its person is disabled."""
    if not token:
        return None
    settings = settings or get_settings()
    with db.transaction() as session:
        login = session.scalar(select(LoginSession).where(LoginSession.digest == _digest(token)))
        if login is None:
            return None
        now = utcnow()
        person = session.get(Person, login.person_id)
        if login.expires_at <= now or person is None or person.disabled:
            session.delete(login)
            return None
        login.last_seen = now
        login.expires_at = now + timedelta(minutes=settings.session_idle_minutes)
        return SessionInfo(login.id, _info(person), _csrf(login.csrf_secret), login.expires_at)


def logout(db: Database, token: str) -> bool:
    """End the session of ``token``; whether there was one."""
    with db.transaction() as session:
        login = session.scalar(select(LoginSession).where(LoginSession.digest == _digest(token)))
        if login is None:
            return False
        subject = f"user:{login.person_id}"
        session.delete(login)
        record_event(session, subject, "logout", subject, {"session": login.id})
        return True


def check_csrf(session: SessionInfo, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token (compared in constant time)."""
    if not token:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), token.encode("utf-8", "replace"))


def actor_for(session: SessionInfo) -> Actor:
    """The actor of the session's person: ``Actor("user:<id>", roles)``."""
    return Actor(f"user:{session.person.id}", session.person.roles)
