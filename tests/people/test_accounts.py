"""Console users: passwords, lock-out, sessions, CSRF, and their audit events."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from shieldwall.audit import list_events, verify
from shieldwall.config import Settings
from shieldwall.errors import AccountLocked, Conflict, LoginFailed, NotFound, UsageError
from shieldwall.people import Actor, Role
from shieldwall.people import accounts as acc
from shieldwall.store import Database
from shieldwall.store.models import LoginSession, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, login_max_failures=3, login_lockout_minutes=10)


def _actions(db: Database) -> list[str]:
    return [e.action for e in list_events(db, limit=1000)]


def test_create_login_actor_and_logout(db: Database, settings: Settings) -> None:
    person = acc.create_person(
        db, "alice", PASSWORD, "reviewer,senior_reviewer", display_name="Alice A", by="cli"
    )
    assert person.roles == {Role.REVIEWER, Role.SENIOR_REVIEWER}
    assert not person.reveal_previews
    session, token = acc.authenticate(db, "Alice", PASSWORD, settings=settings)
    assert acc.actor_for(session) == Actor(f"user:{person.id}", person.roles)
    again = acc.get_session(db, token, settings=settings)
    assert again is not None and again.person.username == "alice"
    assert again.expires_at >= session.expires_at  # sliding expiry
    assert acc.check_csrf(again, session.csrf_token)
    assert not acc.check_csrf(again, session.csrf_token[:-1] + "x")
    assert not acc.check_csrf(again, None)
    assert acc.logout(db, token)
    assert acc.get_session(db, token, settings=settings) is None
    assert not acc.logout(db, token)
    assert _actions(db) == ["person.create", "login.success", "logout"]
    assert verify(db) is None


def test_wrong_password_and_unknown_user_give_the_same_answer(
    db: Database, settings: Settings
) -> None:
    acc.create_person(db, "bob", PASSWORD, "reviewer")
    with pytest.raises(LoginFailed) as wrong:
        acc.authenticate(db, "bob", "not the password", settings=settings)
    with pytest.raises(LoginFailed) as unknown:
        acc.authenticate(db, "nobody", PASSWORD, settings=settings)
    assert wrong.value.message == unknown.value.message == acc.LOGIN_FAILED_MESSAGE
    assert wrong.value.code == unknown.value.code


def test_lockout_after_n_failures_then_unlocks(db: Database, settings: Settings) -> None:
    acc.create_person(db, "carol", PASSWORD, "auditor")
    for _ in range(2):
        with pytest.raises(LoginFailed):
            acc.authenticate(db, "carol", "wrong password", settings=settings)
    with pytest.raises(AccountLocked):
        acc.authenticate(db, "carol", "wrong password", settings=settings)
    with pytest.raises(AccountLocked) as locked:  # even the right password, while locked
        acc.authenticate(db, "carol", PASSWORD, settings=settings)
    assert "locked" in locked.value.message
    # unknown usernames lock the same way: the lock-out does not reveal who exists
    for _ in range(3):
        with pytest.raises((LoginFailed, AccountLocked)):
            acc.authenticate(db, "ghost", "wrong password", settings=settings)
    with pytest.raises(AccountLocked):
        acc.authenticate(db, "ghost", "wrong password", settings=settings)
    acc.set_password(db, "carol", "another good password")  # an admin resets: unlocked
    session, _ = acc.authenticate(db, "carol", "another good password", settings=settings)
    assert session.person.locked_until is None
    actions = _actions(db)
    assert actions.count("login.failure") == 3
    assert "login.lockout" in actions and "login.refused_locked" in actions
    assert verify(db) is None


def test_sessions_expire_and_end_when_disabled(db: Database, settings: Settings) -> None:
    acc.create_person(db, "dan", PASSWORD, "reviewer")
    _, token = acc.authenticate(db, "dan", PASSWORD, settings=settings)
    with db.transaction() as s:
        s.execute(update(LoginSession).values(expires_at=utcnow()))
    assert acc.get_session(db, token, settings=settings) is None
    _, token = acc.authenticate(db, "dan", PASSWORD, settings=settings)
    acc.disable(db, "dan")
    assert acc.get_session(db, token, settings=settings) is None
    with pytest.raises(LoginFailed):
        acc.authenticate(db, "dan", PASSWORD, settings=settings)


def test_roles_passwords_and_validation(db: Database, settings: Settings) -> None:
    with pytest.raises(UsageError, match="at least 12"):
        acc.create_person(db, "erin", "short", "reviewer")
    with pytest.raises(UsageError, match="unknown role"):
        acc.create_person(db, "erin", PASSWORD, "reviewer,boss")
    with pytest.raises(UsageError, match="too easy"):
        acc.create_person(db, "erin", "aaaaaaaaaaaaaaaa", "reviewer")
    acc.create_person(db, "erin", PASSWORD, "reviewer")
    with pytest.raises(Conflict):
        acc.create_person(db, "erin", PASSWORD, "reviewer")
    changed = acc.set_roles(db, "erin", ["child_safety_reviewer"], by="user:1")
    assert changed.roles == {Role.CHILD_SAFETY_REVIEWER}
    with pytest.raises(NotFound):
        acc.set_roles(db, "nobody", "reviewer")
    event = next(e for e in list_events(db) if e.action == "person.roles")
    assert event.actor == "user:1"
    assert event.details == {"from": ["reviewer"], "to": ["child_safety_reviewer"]}
    prefs = acc.set_preferences(db, changed.id, reveal_previews=True)
    assert prefs.reveal_previews
    assert [p.username for p in acc.list_people(db)] == ["erin"]


def test_expired_sessions_are_removed_at_the_next_login(db: Database, settings: Settings) -> None:
    acc.create_person(db, "fay", PASSWORD, "reviewer")
    acc.authenticate(db, "fay", PASSWORD, settings=settings)
    with db.transaction() as s:
        s.execute(update(LoginSession).values(expires_at=utcnow()))
    acc.authenticate(db, "fay", PASSWORD, settings=settings)
    with db.session() as s:
        assert len(list(s.scalars(select(LoginSession)))) == 1


@pytest.mark.parametrize(
    ("roles", "decides", "decides_appeals", "sees_restricted"),
    [
        ("admin", True, True, False),
        ("reviewer", True, False, False),
        ("reviewer,senior_reviewer", True, True, False),
        ("child_safety_reviewer", True, False, True),
        ("auditor", False, False, False),
    ],
)
def test_a_signed_in_persons_actor_carries_their_roles(
    db: Database,
    settings: Settings,
    roles: str,
    decides: bool,
    decides_appeals: bool,
    sees_restricted: bool,
) -> None:
    acc.create_person(db, "gus", PASSWORD, roles)
    session, _ = acc.authenticate(db, "gus", PASSWORD, settings=settings)
    actor = acc.actor_for(session)
    assert actor.roles == acc.parse_roles(roles)
    assert (actor.may_decide, actor.may_decide_appeals, actor.sees_restricted) == (
        decides,
        decides_appeals,
        sees_restricted,
    )
