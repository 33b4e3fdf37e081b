"""``shieldwall user ...`` and ``shieldwall audit verify|list``."""

from __future__ import annotations

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
    assert run(["user", "disable", "alice"]) == 0
    assert run(["user", "disable", "nobody"]) == 1
    capsys.readouterr()
    assert run(["user", "list", "-f", "json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(p["username"], p["roles"], p["disabled"]) for p in listed] == [
        ("alice", ["admin"], True)
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
    assert run(["audit", "list", "--after", "1", "--format", "json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["seq"], e["action"], e["actor"]) for e in events] == [
        (2, "person.roles", "cli"),
        (3, "person.roles", "cli"),
        (4, "person.disable", "cli"),
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
    assert capsys.readouterr().err.strip() == "chain broken at event 3"
