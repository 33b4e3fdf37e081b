"""``shieldwall user ...`` and ``shieldwall audit verify|list``."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from sqlalchemy import update

from shieldwall.cli import run
from shieldwall.store import Database
from shieldwall.store.models import AuditEvent


def _password_file(tmp_path: Path, password: str = "a long enough secret") -> str:
    path = tmp_path / "password.txt"
    path.write_text(password + "\n")
    return str(path)


def test_user_commands(cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = _password_file(tmp_path)
    args = ["user", "create", "alice", "--roles", "reviewer,senior_reviewer"]
    assert run([*args, "--name", "Alice A", "--password-file", pw]) == 0
    assert "created alice (roles: reviewer, senior_reviewer)" in capsys.readouterr().out
    assert run([*args, "--password-file", pw]) == 1  # exists already
    assert "exists already" in capsys.readouterr().err
    assert run(["user", "create", "bob", "--roles", "boss", "--password-file", pw]) == 2
    assert "unknown role(s) boss" in capsys.readouterr().err
    short = _password_file(tmp_path, "short")
    assert run(["user", "create", "bob", "--roles", "auditor", "--password-file", short]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert run(["user", "roles", "alice", "admin"]) == 0
    assert "alice: roles admin" in capsys.readouterr().out
    assert (
        run(
            [
                "user",
                "passwd",
                "alice",
                "--password-file",
                _password_file(tmp_path, "x" * 3 + "another secret"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    # Issue 19: the last admin can be neither disabled nor demoted
    assert run(["user", "disable", "alice"]) == 1
    assert "alice is the last admin and cannot be disabled" in capsys.readouterr().err
    assert run(["user", "roles", "alice", "reviewer"]) == 1
    assert "alice is the last admin and cannot be demoted" in capsys.readouterr().err
    assert run(["user", "create", "root", "--roles", "admin", "--password-file", pw]) == 0
    assert run(["user", "disable", "alice"]) == 0
    assert run(["user", "disable", "nobody"]) == 1
    capsys.readouterr()
    assert run(["user", "list", "-f", "jsonl"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(p["username"], p["roles"], p["disabled"]) for p in listed] == [
        ("alice", ["admin"], True),
        ("root", ["admin"], False),
    ]
    assert run(["user", "list"]) == 0
    assert "alice\tAlice A\tadmin\tdisabled" in capsys.readouterr().out


def test_user_create_prompts_for_the_password(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The terminal (no tty under pytest) is replaced; the command's prompt and checks run.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "typed secret 123")
    assert run(["user", "create", "carol", "--roles", "auditor"]) == 0
    assert "created carol" in capsys.readouterr().out


def test_audit_verify_names_the_changed_row(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pw = _password_file(tmp_path)
    run(["user", "create", "alice", "--roles", "reviewer", "--password-file", pw])
    run(["user", "roles", "alice", "reviewer,auditor"])
    run(["user", "roles", "alice", "auditor"])
    run(["user", "disable", "alice"])
    capsys.readouterr()
    assert run(["audit", "verify"]) == 0
    assert "chain intact: 4 events" in capsys.readouterr().out
    assert run(["audit", "list", "--after", "1", "--format", "jsonl"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    me = f"cli:{getpass.getuser()}"
    assert [(e["seq"], e["action"], e["actor"]) for e in events] == [
        (2, "person.roles", me),
        (3, "person.roles", me),
        (4, "person.disable", me),
    ]
    assert run(["audit", "list"]) == 0
    assert "\tperson.create\tuser:1" in capsys.readouterr().out
    db = Database(cli_env)
    try:
        with db.transaction() as session:
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.seq == 3)
                .values(details={"from": ["reviewer"], "to": ["admin"]})
            )
    finally:
        db.dispose()
    assert run(["audit", "verify"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "broken: row 3 altered: its keyed hash does not match its fields (edited, or "
        "recomputed without the key)",
        "chain broken at event 3",
    ]


def test_sign_out_and_two_factor_commands(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from shieldwall.config import Settings
    from shieldwall.people import accounts as acc

    pw = _password_file(tmp_path)
    assert run(["user", "create", "carol", "--roles", "reviewer", "--password-file", pw]) == 0
    db = Database(cli_env)
    settings = Settings(data_dir=tmp_path)
    try:
        _, token = acc.authenticate(db, "carol", "a long enough secret", settings=settings)
        assert run(["user", "sign-out", "carol"]) == 0
        assert "carol: 1 session ended" in capsys.readouterr().out
        assert acc.get_session(db, token, settings=settings) is None
        assert run(["user", "require-two-factor", "carol"]) == 0
        pending, _ = acc.authenticate(db, "carol", "a long enough secret", settings=settings)
        assert pending.pending == "enrol"
        assert run(["user", "require-two-factor", "carol", "--off"]) == 0
        assert run(["user", "reset-two-factor", "carol"]) == 0
        assert run(["user", "sign-out", "nobody"]) == 1
        capsys.readouterr()
        assert run(["user", "list", "-f", "jsonl"]) == 0
        (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert listed["two_factor"] is False and listed["two_factor_required"] is False
        assert listed["sso"] is False
    finally:
        db.dispose()
