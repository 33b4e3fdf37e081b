"""Two-factor sign-in (TOTP and recovery codes), the lock-out it shares with passwords, and the
sessions' absolute expiry and sign-out everywhere."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, update

from shieldwall.audit import list_events, verify
from shieldwall.config import Settings
from shieldwall.errors import AccountLocked, Conflict, LoginFailed, UsageError
from shieldwall.people import accounts as acc
from shieldwall.people import twofactor as tf
from shieldwall.store import Database
from shieldwall.store.models import LoginSession, Person, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, login_max_failures=4, login_lockout_minutes=10)


def _enrolled(
    db: Database, settings: Settings, username: str = "alice"
) -> tuple[int, str, list[str]]:
    person = acc.create_person(db, username, PASSWORD, "reviewer", settings=settings)
    enrolment = tf.start_enrolment(db, person.id, settings=settings)
    codes = tf.confirm_enrolment(db, person.id, pyotp.TOTP(enrolment.secret).now())
    return person.id, enrolment.secret, codes


def _next_code(secret: str) -> str:
    """The code of the next time step (the current step's code was used by the enrolment,
    and a code is never accepted twice)."""
    totp = pyotp.TOTP(secret)
    return totp.at(utcnow(), counter_offset=1)


def test_enrolment_needs_a_right_code_and_shows_the_uri(db: Database, settings: Settings) -> None:
    person = acc.create_person(db, "alice", PASSWORD, "reviewer", settings=settings)
    enrolment = tf.start_enrolment(db, person.id, settings=settings)
    assert enrolment.uri.startswith("otpauth://totp/Shieldwall:alice?secret=")
    assert enrolment.secret in enrolment.uri
    with pytest.raises(UsageError):
        tf.confirm_enrolment(
            db, person.id, "000000" if pyotp.TOTP(enrolment.secret).now() != "000000" else "111111"
        )
    assert not acc.get_person(db, "alice").two_factor  # not on until confirmed
    codes = tf.confirm_enrolment(db, person.id, pyotp.TOTP(enrolment.secret).now())
    assert len(codes) == tf.RECOVERY_CODES and len(set(codes)) == tf.RECOVERY_CODES
    assert acc.get_person(db, "alice").two_factor
    with pytest.raises(Conflict):
        tf.start_enrolment(db, person.id, settings=settings)
    with db.session() as session:
        row = session.scalar(select(Person).where(Person.username == "alice"))
        assert row is not None and row.recovery_codes is not None
        assert not set(codes) & set(row.recovery_codes)  # only digests are kept


def test_password_then_code_signs_in_and_a_code_is_used_once(
    db: Database, settings: Settings
) -> None:
    _, secret, _ = _enrolled(db, settings)
    pending, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    assert pending.pending == "totp"
    assert acc.get_session(db, token, settings=settings) is None  # no console page yet
    code = _next_code(secret)
    signed_in = tf.verify_code(db, token, code, settings=settings)
    assert signed_in.pending is None
    assert acc.get_session(db, token, settings=settings) is not None
    assert acc.get_pending(db, token, settings=settings) is None
    # the same code again, in a new sign-in: refused (replay)
    _, again = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    with pytest.raises(LoginFailed):
        tf.verify_code(db, again, code, settings=settings)
    actions = [e.action for e in list_events(db, limit=100)]
    assert actions.count("login.password_ok") == 2 and "login.failure" in actions
    assert verify(db) is None


def test_a_recovery_code_signs_in_once(db: Database, settings: Settings) -> None:
    _, _, codes = _enrolled(db, settings)
    _, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    tf.verify_code(db, token, codes[0].upper(), settings=settings)
    _, again = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    with pytest.raises(LoginFailed):
        tf.verify_code(db, again, codes[0], settings=settings)
    tf.verify_code(db, again, codes[1], settings=settings)


def test_wrong_codes_and_passwords_add_up_to_the_lock_out(db: Database, settings: Settings) -> None:
    _, secret, _ = _enrolled(db, settings)
    # a right password does not reset the count while the code is still to come
    for _ in range(3):
        _, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
        with pytest.raises(LoginFailed) as wrong:
            tf.verify_code(db, token, "12345x", settings=settings)
        assert wrong.value.message == tf.WRONG_CODE_MESSAGE
    _, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    with pytest.raises(AccountLocked):
        tf.verify_code(db, token, "12345x", settings=settings)
    assert acc.get_pending(db, token, settings=settings) is None  # the pending session ended
    with pytest.raises(AccountLocked):  # locked: even the right password is refused now
        acc.authenticate(db, "alice", PASSWORD, settings=settings)
    assert acc.get_person(db, "alice").locked_until is not None
    del secret


def test_required_two_factor_leads_to_enrolment(db: Database, settings: Settings) -> None:
    acc.create_person(db, "bob", PASSWORD, "reviewer", settings=settings)
    tf.require_two_factor(db, "bob", by="cli")
    pending, token = acc.authenticate(db, "bob", PASSWORD, settings=settings)
    assert pending.pending == "enrol"
    assert acc.get_session(db, token, settings=settings) is None
    with pytest.raises(LoginFailed):  # no code step for an enrolment
        tf.verify_code(db, token, "000000", settings=settings)
    enrolment = tf.start_enrolment(db, pending.person.id, settings=settings)
    info, codes = tf.finish_enrolment(
        db, token, pyotp.TOTP(enrolment.secret).now(), settings=settings
    )
    assert info.pending is None and len(codes) == tf.RECOVERY_CODES
    assert acc.get_session(db, token, settings=settings) is not None
    # the setting requires it of every local account
    everyone = settings.model_copy(update={"totp_required": True})
    acc.create_person(db, "carol", PASSWORD, "reviewer", settings=settings)
    assert acc.authenticate(db, "carol", PASSWORD, settings=everyone)[0].pending == "enrol"
    # an admin reset: two-factor off and sessions ended
    tf.reset_two_factor(db, "bob", by="cli")
    assert acc.get_session(db, token, settings=settings) is None
    assert acc.authenticate(db, "bob", PASSWORD, settings=settings)[0].pending == "enrol"


def test_absolute_and_idle_expiry(db: Database, settings: Settings) -> None:
    acc.create_person(db, "alice", PASSWORD, "reviewer", settings=settings)
    session, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    limit = session.expires_at - timedelta(minutes=settings.session_idle_minutes)
    assert limit <= utcnow()
    with db.transaction() as s:  # signed in 13 hours ago, used a minute ago
        s.execute(
            update(LoginSession).values(
                created_at=utcnow() - timedelta(hours=13),
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    assert acc.get_session(db, token, settings=settings) is None  # past session_max_hours
    session, token = acc.authenticate(db, "alice", PASSWORD, settings=settings)
    with db.transaction() as s:
        s.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert acc.get_session(db, token, settings=settings) is None  # idle too long
    short = settings.model_copy(update={"session_max_hours": 1.0})
    session, token = acc.authenticate(db, "alice", PASSWORD, settings=short)
    assert session.expires_at <= utcnow() + timedelta(hours=1)  # never past the absolute end


def test_sign_out_everywhere_ends_every_session(db: Database, settings: Settings) -> None:
    person = acc.create_person(db, "alice", PASSWORD, "reviewer", settings=settings)
    other = acc.create_person(db, "bob", PASSWORD, "reviewer", settings=settings)
    tokens = [acc.authenticate(db, "alice", PASSWORD, settings=settings)[1] for _ in range(3)]
    _, bob = acc.authenticate(db, "bob", PASSWORD, settings=settings)
    assert acc.sign_out_everywhere(db, person.id) == 3
    assert all(acc.get_session(db, t, settings=settings) is None for t in tokens)
    assert acc.get_session(db, bob, settings=settings) is not None
    events = [e for e in list_events(db, limit=100) if e.action == "logout.everywhere"]
    assert len(events) == 1 and events[0].subject == f"user:{person.id}"
    del other
