"""``shieldwall serve --demo``'s set-up: the demo bank, an API key, a console user whose
password is shown once, and a demo notice in the queue."""

from __future__ import annotations

import re

import pytest

from shieldwall.banks import get_bank
from shieldwall.cases import list_queue
from shieldwall.cli._db import open_database
from shieldwall.cli.serve import DEMO_BANK, DEMO_USER, _demo_setup
from shieldwall.config import get_settings
from shieldwall.people import Actor, Role
from shieldwall.people.accounts import authenticate


def test_demo_setup_prints_working_credentials(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo_setup(8000, "127.0.0.1")
    out = capsys.readouterr().out
    db = open_database()
    assert get_bank(db, DEMO_BANK).kind == "block"
    found = re.search(rf"Console user \(shown once\): {DEMO_USER} / (\S+)", out)
    assert found, out
    session, token = authenticate(db, DEMO_USER, found.group(1), settings=get_settings())
    assert token and {"admin", "reviewer"} <= {r.value for r in session.person.roles}
    reviewer = Actor("user:x", frozenset({Role.REVIEWER}))
    assert [c.content_ids for c in list_queue(db, reviewer)] == [["demo-post-1"]]
    assert "http://127.0.0.1:8000/console" in out and "http://127.0.0.1:8000/report" in out
    # a second start keeps the user (and does not print a password again)
    _demo_setup(8000, "127.0.0.1")
    again = capsys.readouterr().out
    assert "exists already" in again and found.group(1) not in again
    assert f"shieldwall user passwd {DEMO_USER}" in again
