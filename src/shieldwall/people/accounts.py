"""Console users: argon2 passwords, lock-out, sessions with idle and absolute expiry and CSRF
tokens, and sign-out everywhere. The second factor (TOTP) is :mod:`shieldwall.people.twofactor`,
single sign-on :mod:`shieldwall.people.sso`.

A right password of an account with two-factor sign-in (or one that must enrol) opens a
*pending* session: it opens no console page, only the code (or enrolment) step, for
``PENDING_MINUTES``; the failure count is not reset until the code is right, so that wrong
codes and wrong passwords add up to one lock-out.

Every login (success, failure, lock-out), logout and change to a person (created, roles,
password, disabled) is an event of the hash-chained audit log, written in the same transaction
as the change. A failed login never says whether the username exists: unknown usernames cost
one argon2 verification like known ones, and they are "locked" after the same number of
failures (counted in Redis shared by the replicas when ``redis_url`` is set, else in the
process), so the lock-out message tells nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
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
from shieldwall.replicas import Lockout, SharedStore
from shieldwall.store import Database
from shieldwall.store.models import LoginSession, Person, utcnow

__all__ = [
    "LOGIN_FAILED_MESSAGE",
    "PENDING_MINUTES",
    "PersonInfo",
    "SessionInfo",
    "actor_for",
    "authenticate",
    "check_csrf",
    "create_person",
    "disable",
    "get_pending",
    "get_person",
    "get_session",
    "list_people",
    "logout",
    "parse_roles",
    "set_password",
    "set_preferences",
    "set_roles",
    "sign_out_everywhere",
    "start_session",
]

#: The one answer to a wrong username or a wrong password.
LOGIN_FAILED_MESSAGE = "wrong username or password"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: How long a pending session (password right, code still to come) lasts.
PENDING_MINUTES = 10.0


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
    #: Signs in with a TOTP code after the password.
    two_factor: bool = False
    #: An admin requires two-factor sign-in of this account.
    totp_required: bool = False
    #: Signs in through the OpenID Connect provider (no password).
    sso: bool = False


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session: who is signed in and the CSRF token of its forms."""

    id: int
    person: PersonInfo
    csrf_token: str
    expires_at: datetime
    #: ``None``: signed in; ``totp`` or ``enrol``: the second factor is still to come.
    pending: str | None = None


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
        p.totp_enabled_at is not None,
        bool(p.totp_required),
        p.oidc_subject is not None,
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


def _keep_an_admin(session: Session, row: Person, what: str) -> None:
    """Refuse (:class:`Conflict`) to take the last enabled admin's role away: nobody could
    manage the people of the console any more."""
    if row.disabled or Role.ADMIN.value not in row.roles:
        return
    # Locked (PostgreSQL; SQLite has one writer): two changes at once cannot both see another
    # admin left.
    admins = session.scalars(select(Person).where(Person.disabled.is_(False)).with_for_update())
    if not [p for p in admins if p.id != row.id and Role.ADMIN.value in p.roles]:
        raise Conflict(
            f"{row.username} is the last admin and cannot be {what}: give another person the "
            "admin role first (shieldwall user roles NAME admin,...)"
        )


def set_roles(
    db: Database, username: str, roles: str | Iterable[str], *, by: str = "system"
) -> PersonInfo:
    """Replace a person's roles (recorded with the old and new roles). The last enabled admin
    keeps the admin role (:class:`Conflict`)."""
    chosen = parse_roles(roles)
    with db.transaction() as session:
        row = _person(session, username)
        if Role.ADMIN not in chosen:
            _keep_an_admin(session, row, "demoted")
        old = sorted(row.roles)
        row.roles = sorted(r.value for r in chosen)
        record_event(session, by, "person.roles", f"user:{row.id}", {"from": old, "to": row.roles})
        return _info(row)


def disable(db: Database, username: str, *, by: str = "system") -> PersonInfo:
    """Disable a person: no more logins, and their sessions end now. The last enabled admin
    cannot be disabled (:class:`Conflict`)."""
    with db.transaction() as session:
        row = _person(session, username)
        _keep_an_admin(session, row, "disabled")
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


def _phantom_lockout(settings: Settings) -> Lockout:
    """The lock-out of unknown usernames: in Redis shared by the replicas when ``redis_url``
    is set (a guesser spreading names over them is counted once), else in this process."""
    return Lockout(
        SharedStore.for_settings(settings),
        "login",
        max_failures=settings.login_max_failures,
        lock_seconds=settings.login_lockout_minutes * 60,
    )


def _unknown_user(username: str, password: str, settings: Settings) -> None:
    """Spend the work of a real check and count the failure as if the name existed."""
    verify_secret(dummy_hash(settings), password)
    now = utcnow()
    phantom = _phantom_lockout(settings)
    left = phantom.locked_for(username)
    if left > 0:
        raise AccountLocked(_locked_message(now + timedelta(seconds=left), now))
    if phantom.failed(username) > 0:
        until = now + timedelta(minutes=settings.login_lockout_minutes)
        raise AccountLocked(_locked_message(until, now))
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
            session.execute(  # the person's expired sessions go (the others end when used)
                delete(LoginSession).where(
                    LoginSession.person_id == row.id, LoginSession.expires_at <= now
                )
            )
            if needs_rehash(hashed, settings):
                row.password_hash = hash_secret(password, settings)
            pending: str | None = None
            if row.totp_enabled_at is not None:
                pending = "totp"
            elif settings.totp_required or row.totp_required:
                pending = "enrol"
            if pending is None:
                row.failed_logins = 0
                row.locked_until = None
            info, token = start_session(session, row, settings, pending=pending)
            event = "login.success" if pending is None else "login.password_ok"
            record_event(session, subject, event, subject, {"session": info.id})
    if error is not None:
        raise error
    return info, token


def start_session(
    session: Session, row: Person, settings: Settings, *, pending: str | None = None
) -> tuple[SessionInfo, str]:
    """A new session of ``row`` in the caller's transaction and its cookie token (only the
    token's digest is stored). A pending session lasts ``PENDING_MINUTES``."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    secret = secrets.token_hex(32)
    minutes = PENDING_MINUTES if pending else settings.session_idle_minutes
    login = LoginSession(
        digest=_digest(token),
        person_id=row.id,
        csrf_secret=secret,
        created_at=now,
        last_seen=now,
        expires_at=_expiry(now, now, minutes, settings),
        pending=pending,
    )
    session.add(login)
    session.flush()
    return SessionInfo(login.id, _info(row), _csrf(secret), login.expires_at, pending), token


def _expiry(created: datetime, now: datetime, idle_minutes: float, settings: Settings) -> datetime:
    """The sooner of the idle and the absolute expiry."""
    idle = now + timedelta(minutes=idle_minutes)
    return min(idle, created + timedelta(hours=settings.session_max_hours))


def _live(db: Database, token: str, settings: Settings, *, pending: bool) -> SessionInfo | None:
    if not token:
        return None
    with db.transaction() as session:
        login = session.scalar(select(LoginSession).where(LoginSession.digest == _digest(token)))
        if login is None:
            return None
        now = utcnow()
        person = session.get(Person, login.person_id)
        ended = (
            login.expires_at <= now
            or login.created_at + timedelta(hours=settings.session_max_hours) <= now
        )
        if ended or person is None or person.disabled:
            session.delete(login)
            return None
        if (login.pending is not None) != pending:
            return None
        if not pending:
            login.last_seen = now
            login.expires_at = _expiry(
                login.created_at, now, settings.session_idle_minutes, settings
            )
        return SessionInfo(
            login.id, _info(person), _csrf(login.csrf_secret), login.expires_at, login.pending
        )


def get_session(
    db: Database, token: str, *, settings: Settings | None = None
) -> SessionInfo | None:
    """The live session of a cookie token, its idle expiry moved on (never past the absolute
    one, ``session_max_hours`` after sign-in); ``None`` when the token is unknown, expired,
    pending (second factor still to come), or its person is disabled."""
    return _live(db, token, settings or get_settings(), pending=False)


def get_pending(
    db: Database, token: str, *, settings: Settings | None = None
) -> SessionInfo | None:
    """The pending session of a cookie token (password right, second factor still to come);
    ``None`` when there is none."""
    return _live(db, token, settings or get_settings(), pending=True)


def sign_out_everywhere(db: Database, person_id: int, *, by: str | None = None) -> int:
    """End every session of the person (every browser, the pending ones too); how many."""
    with db.transaction() as session:
        row = session.get(Person, person_id)
        if row is None:
            raise NotFound(f"no person with the id {person_id}")
        subject = f"user:{row.id}"
        ended = session.execute(delete(LoginSession).where(LoginSession.person_id == row.id))
        count = int(getattr(ended, "rowcount", 0) or 0)
        record_event(session, by or subject, "logout.everywhere", subject, {"sessions": count})
        return count


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
