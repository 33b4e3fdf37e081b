"""Two-factor sign-in of local console accounts: TOTP codes (RFC 6238, 30-second steps, six
digits, through pyotp) and one-time recovery codes.

Enrolment shows the secret and its ``otpauth://`` URI once (:func:`start_enrolment`); it takes
effect only when a code made from it is confirmed (:func:`confirm_enrolment`), which also
gives the recovery codes, shown once (only their SHA-256 digests are kept). At sign-in
(:func:`verify_code`) a code of the step before, this one or the next is accepted, never a
step already used; a wrong code counts as a failed sign-in towards the lock-out, like a wrong
password. An admin requires two-factor sign-in of an account (:func:`require_two_factor`) or of
every local account (the ``totp_required`` setting): a right password then leads to enrolment,
never to the console. The TOTP secret is stored as it is (a code cannot be checked otherwise):
guard the database like the password hashes.

Example::

    enrolment = start_enrolment(db, person.id)
    codes = confirm_enrolment(db, person.id, pyotp.TOTP(enrolment.secret).now())
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shieldwall.audit import record_event
from shieldwall.config import Settings, get_settings
from shieldwall.errors import AccountLocked, Conflict, LoginFailed, NotFound, UsageError
from shieldwall.people.accounts import SessionInfo, _locked_message, get_pending
from shieldwall.store import Database
from shieldwall.store.models import LoginSession, Person, utcnow

__all__ = [
    "RECOVERY_CODES",
    "WRONG_CODE_MESSAGE",
    "Enrolment",
    "confirm_enrolment",
    "finish_enrolment",
    "require_two_factor",
    "reset_two_factor",
    "start_enrolment",
    "verify_code",
]

#: How many recovery codes an enrolment gives.
RECOVERY_CODES = 10
#: The answer to a wrong code (or a wrong recovery code).
WRONG_CODE_MESSAGE = "wrong code: enter the six digits your authenticator app shows now"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A TOTP secret to add to an authenticator app: shown once."""

    secret: str
    #: The ``otpauth://totp/...`` URI (what a QR code would carry).
    uri: str


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step (previous, current or next) whose code is ``code``, never one at or
    before ``after`` (a code is used once)."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    step = totp.timecode(now)
    found = None
    for offset in (-1, 0, 1):
        candidate = step + offset
        if hmac.compare_digest(totp.generate_otp(candidate), code) and (
            after is None or candidate > after
        ):
            found = candidate
    return found


def _recovery_codes() -> tuple[list[str], list[str]]:
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    return codes, [_digest(_normalise(c)) for c in codes]


def _row(session: Session, person_id: int) -> Person:
    row = session.get(Person, person_id)
    if row is None:
        raise NotFound(f"no person with the id {person_id}")
    return row


def start_enrolment(db: Database, person_id: int, *, settings: Settings | None = None) -> Enrolment:
    """A new TOTP secret for the person (replacing one not yet confirmed); :class:`Conflict`
    when two-factor sign-in is on already or the account signs in through single sign-on."""
    settings = settings or get_settings()
    secret = pyotp.random_base32()
    with db.transaction() as session:
        row = _row(session, person_id)
        if row.totp_enabled_at is not None:
            raise Conflict("two-factor sign-in is on already for this account")
        if row.oidc_subject is not None:
            raise Conflict("this account signs in through single sign-on (the provider's own)")
        row.totp_secret = secret
        record_event(session, f"user:{row.id}", "person.totp_enrol", f"user:{row.id}", {})
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=row.username, issuer_name=settings.totp_issuer
        )
    return Enrolment(secret, uri)


def confirm_enrolment(db: Database, person_id: int, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code made from the new secret; the recovery codes
    (shown once). :class:`UsageError` for a wrong code (the enrolment stays open)."""
    code = _normalise(code)
    with db.transaction() as session:
        row = _row(session, person_id)
        if row.totp_enabled_at is not None:
            raise Conflict("two-factor sign-in is on already for this account")
        if row.totp_secret is None:
            raise UsageError("start the enrolment first: there is no secret to confirm")
        step = _matching_step(row.totp_secret, code, None)
        if step is None:
            raise UsageError(WRONG_CODE_MESSAGE)
        codes, digests = _recovery_codes()
        row.totp_enabled_at = utcnow()
        row.totp_last_step = step
        row.recovery_codes = digests
        record_event(session, f"user:{row.id}", "person.totp_on", f"user:{row.id}", {})
        return codes


def verify_code(
    db: Database, token: str, code: str, *, settings: Settings | None = None
) -> SessionInfo:
    """The second step of a sign-in: a TOTP code (or a recovery code, used up) for the pending
    session of ``token``, which becomes a signed-in session.

    Raises :class:`LoginFailed` for a wrong code or no pending session, and
    :class:`AccountLocked` when wrong codes and passwords reach ``login_max_failures`` (the
    pending session ends)."""
    settings = settings or get_settings()
    pending = get_pending(db, token, settings=settings)
    if pending is None or pending.pending != "totp":
        raise LoginFailed("the sign-in has expired: enter your username and password again")
    code = _normalise(code)
    error: LoginFailed | AccountLocked | None = None
    with db.transaction() as session:
        row = _row(session, pending.person.id)
        login = session.get(LoginSession, pending.id)
        assert login is not None
        now = utcnow()
        subject = f"user:{row.id}"
        assert row.totp_secret is not None
        step = _matching_step(row.totp_secret, code, row.totp_last_step)
        used = None
        if step is None and _digest(code) in (row.recovery_codes or []):
            used = _digest(code)
        if row.locked_until is not None and row.locked_until > now:
            session.delete(login)
            record_event(session, subject, "login.refused_locked", subject, {})
            error = AccountLocked(_locked_message(row.locked_until, now))
        elif step is None and used is None:
            row.failed_logins += 1
            record_event(
                session,
                subject,
                "login.failure",
                subject,
                {"failures": row.failed_logins, "step": "code"},
            )
            if row.failed_logins >= settings.login_max_failures:
                row.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                row.failed_logins = 0
                session.delete(login)
                record_event(
                    session,
                    subject,
                    "login.lockout",
                    subject,
                    {"until": row.locked_until.isoformat()},
                )
                error = AccountLocked(_locked_message(row.locked_until, now))
            else:
                error = LoginFailed(WRONG_CODE_MESSAGE)
        else:
            row.failed_logins = 0
            row.locked_until = None
            if step is not None:
                row.totp_last_step = step
            else:
                row.recovery_codes = [d for d in row.recovery_codes or [] if d != used]
            login.pending = None
            login.last_seen = now
            login.expires_at = min(
                now + timedelta(minutes=settings.session_idle_minutes),
                login.created_at + timedelta(hours=settings.session_max_hours),
            )
            factor = "totp" if step is not None else "recovery_code"
            record_event(
                session, subject, "login.success", subject, {"session": login.id, "factor": factor}
            )
            result = SessionInfo(
                login.id, pending.person, pending.csrf_token, login.expires_at, None
            )
    if error is not None:
        raise error
    return result


def finish_enrolment(
    db: Database, token: str, code: str, *, settings: Settings | None = None
) -> tuple[SessionInfo, list[str]]:
    """Confirm the enrolment of a pending ``enrol`` session (the password was right, two-factor
    is required and was not set up yet) and sign it in; the recovery codes (shown once)."""
    settings = settings or get_settings()
    pending = get_pending(db, token, settings=settings)
    if pending is None or pending.pending != "enrol":
        raise LoginFailed("the sign-in has expired: enter your username and password again")
    codes = confirm_enrolment(db, pending.person.id, code)
    with db.transaction() as session:
        row = _row(session, pending.person.id)
        login = session.get(LoginSession, pending.id)
        if login is None:
            raise LoginFailed("the sign-in has expired: enter your username and password again")
        now = utcnow()
        row.failed_logins = 0
        row.locked_until = None
        login.pending = None
        login.last_seen = now
        login.expires_at = min(
            now + timedelta(minutes=settings.session_idle_minutes),
            login.created_at + timedelta(hours=settings.session_max_hours),
        )
        subject = f"user:{row.id}"
        record_event(
            session, subject, "login.success", subject, {"session": login.id, "factor": "totp"}
        )
        info = SessionInfo(login.id, pending.person, pending.csrf_token, login.expires_at, None)
    return info, codes


def _by_name(session: Session, username: str) -> Person:
    row = session.scalar(select(Person).where(Person.username == username))
    if row is None:
        raise NotFound(f"no person with the username {username!r}")
    return row


def require_two_factor(
    db: Database, username: str, required: bool = True, *, by: str = "system"
) -> None:
    """Require (or stop requiring) two-factor sign-in of one account: from its next sign-in,
    a right password without a confirmed TOTP leads to enrolment."""
    with db.transaction() as session:
        row = _by_name(session, username)
        row.totp_required = required
        record_event(session, by, "person.totp_required", f"user:{row.id}", {"required": required})


def reset_two_factor(db: Database, username: str, *, by: str = "system") -> None:
    """Turn two-factor sign-in off for an account that lost its authenticator (its secret and
    recovery codes go, and its sessions end); it enrols again at its next sign-in when
    two-factor is required."""
    with db.transaction() as session:
        row = _by_name(session, username)
        row.totp_secret = None
        row.totp_enabled_at = None
        row.totp_last_step = None
        row.recovery_codes = None
        session.execute(delete(LoginSession).where(LoginSession.person_id == row.id))
        record_event(session, by, "person.totp_reset", f"user:{row.id}", {})
