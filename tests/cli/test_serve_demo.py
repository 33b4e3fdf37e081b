"""``shieldwall serve --demo``'s set-up: the demo bank, an API key, a console user whose
password is shown once, and a demo notice in the queue."""

from __future__ import annotations

import re

import pytest

from shieldwall.banks import get_bank
from shieldwall.cases import decide_case, list_queue, open_copy_tasks
from shieldwall.cli._db import open_database
from shieldwall.cli._demo_platform import DemoPlatform
from shieldwall.cli.serve import (
    DEMO_BANK,
    DEMO_POST,
    DEMO_REPOST,
    DEMO_USER,
    _demo_environment,
    _demo_setup,
    demo_posts,
)
from shieldwall.config import get_settings
from shieldwall.matching import sweep
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


def test_the_demo_shows_remove_bank_sweep_copy_found(
    cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # what `serve --demo` does before serving: the stand-in platform, the settings pointing
    # at it (in the environment, for --workers), then the set-up
    for name in ("SHIELDWALL_PREVIEW_URL_TEMPLATE", "SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS"):
        monkeypatch.setenv(name, "")  # so that monkeypatch removes what the demo sets after
        monkeypatch.delenv(name)
    platform = DemoPlatform(demo_posts()).start()
    try:
        _demo_environment(platform)
        settings = get_settings()
        assert settings.preview_url_template == platform.template
        _demo_setup(8000, "127.0.0.1", platform)
        assert DEMO_REPOST in capsys.readouterr().out
        db = open_database()
        reviewer = Actor("user:x", frozenset({Role.REVIEWER}))
        (case,) = list_queue(db, reviewer)
        decision = decide_case(
            db,
            settings,
            reviewer,
            case.id,
            action="remove",
            ground="terms",
            reason="A demo removal.",
        )
    finally:
        platform.stop()
    assert decision.banking is not None and decision.banking.sources == {DEMO_POST: "preview"}
    assert decision.entry_id is not None
    sweep(db, settings=settings)
    opened = open_copy_tasks(db, case.id, settings=settings)
    copies = [c for c in list_queue(db, reviewer) if c.id in opened]
    assert [c.content_ids for c in copies] == [[DEMO_REPOST]]  # found; not the unrelated post
