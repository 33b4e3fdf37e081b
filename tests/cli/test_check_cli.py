"""``shieldwall check`` names each problem of a production configuration (exit 1), says ok
for a sound one (exit 0), refuses invalid settings (exit 2); ``shieldwall migrate`` brings an
older schema to this version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redis_helpers import REDIS_URL, redis_answers
from shieldwall import banks
from shieldwall.cli import run
from shieldwall.config import Settings, get_settings
from shieldwall.deployment import DEMO_BANK, Deployment, check_deployment, check_settings
from shieldwall.store import Database

#: What a sound production deployment sets (with PostgreSQL and Redis for its replicas).
SOUND: dict[str, Any] = {
    "database_url": "postgresql+psycopg://shieldwall:Xq8v2LwR9mZp4T7y@db.internal:5432/shieldwall",
    "redis_url": "redis://:Xq8v2LwR9mZp4T7yKk@redis.internal:6379/0",
    "trusted_proxies": ["10.0.0.5/32"],
    "session_cookie_secure": True,
    "cases_appeal_url": "https://platform.test/appeal",
    "codescan_policy_url": "https://platform.test/policy",
    "codescan_appeal_url": "https://platform.test/appeal",
}
FLEET = Deployment(replicas=4, behind_proxy=True)


def _codes(**overrides: Any) -> list[str]:
    settings = Settings(**{**SOUND, **overrides})
    return [p.code for p in check_settings(settings, FLEET)]


def test_a_sound_configuration_has_no_problem() -> None:
    assert _codes() == []
    # One process on SQLite, no proxy: sound too, once its URLs are the platform's.
    alone = Settings(**{k: v for k, v in SOUND.items() if k.endswith("_url") and "sql" not in v})
    assert check_settings(alone.model_copy(update={"redis_url": None})) == []


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"database_url": "sqlite:////var/lib/shieldwall/shieldwall.db"}, "sqlite_with_replicas"),
        ({"redis_url": None}, "no_redis_with_replicas"),
        ({"trusted_proxies": []}, "proxy_not_trusted"),
        ({"trusted_proxies": ["0.0.0.0/0"]}, "trusted_proxy_everyone"),
        ({"session_cookie_secure": False}, "cookie_not_secure"),
        ({"database_url": "postgresql+psycopg://u:postgres@db:5432/s"}, "default_secret"),
        ({"redis_url": "redis://:changeme@redis:6379/0"}, "default_secret"),
        ({"trusted_flaggers": {"Hotline": "abc"}}, "default_secret"),
        ({"tdb_token": "secret"}, "default_secret"),
        ({"outbound_allowed_networks": ["10.0.0.0/8"]}, "outbound_private"),
        ({"outbound_allowed_networks": ["169.254.169.254/32"]}, "outbound_private"),
        ({"outbound_allowed_networks": ["0.0.0.0/0"]}, "outbound_private"),
        ({"cases_appeal_url": "https://shieldwall.example/appeal"}, "placeholder_url"),
    ],
)
def test_each_problem_is_named(overrides: dict[str, Any], code: str) -> None:
    assert _codes(**overrides) == [code]


def test_a_public_outbound_network_is_fine() -> None:
    assert _codes(outbound_allowed_networks=["8.8.8.0/24"]) == []


def test_services_that_do_not_answer_are_named(tmp_path: Path) -> None:
    settings = Settings(
        **{
            **SOUND,
            "data_dir": tmp_path,
            "database_url": "postgresql+psycopg://u:Xq8v2LwR9mZp4T7y@127.0.0.1:1/none",
            "redis_url": "redis://127.0.0.1:1/0",
        }
    )
    problems = {p.code: p for p in check_deployment(settings, FLEET)}
    assert set(problems) == {"database_unreachable", "redis_unreachable"}
    assert "127.0.0.1:1" in problems["redis_unreachable"].message
    assert "Xq8v2" not in problems["database_unreachable"].message  # no password shown


def _sound_env(monkeypatch: pytest.MonkeyPatch, redis_prefix: str | None = None) -> None:
    for name in ("cases_appeal_url", "codescan_policy_url", "codescan_appeal_url"):
        monkeypatch.setenv(f"SHIELDWALL_{name.upper()}", SOUND[name])
    monkeypatch.setenv("SHIELDWALL_TRUSTED_PROXIES", '["127.0.0.1/32"]')
    monkeypatch.setenv("SHIELDWALL_SESSION_COOKIE_SECURE", "true")
    get_settings.cache_clear()


def test_check_on_a_real_database_and_redis(
    cli_env: str, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sound_env(monkeypatch)
    assert run(["check", "--behind-proxy"]) == 0
    assert "ok: no problem found for 1 replica(s) behind a proxy" in capsys.readouterr().out

    # Two replicas: SQLite (when the test's database is) and no Redis are named.
    assert run(["check", "--replicas", "2", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    codes = {p["code"] for p in found["problems"]}
    assert found["ok"] is False and "no_redis_with_replicas" in codes
    assert ("sqlite_with_replicas" in codes) == (db.dialect == "sqlite")

    if redis_answers():
        monkeypatch.setenv("SHIELDWALL_REDIS_URL", REDIS_URL)
        get_settings.cache_clear()
        assert run(["check", "--replicas", "2", "--json"]) == (1 if db.dialect == "sqlite" else 0)
        codes = {p["code"] for p in json.loads(capsys.readouterr().out)["problems"]}
        assert "no_redis_with_replicas" not in codes and "redis_unreachable" not in codes

    # serve --demo's bank left behind is named, with what to do.
    banks.create_bank(db, DEMO_BANK, "block")
    assert run(["check"]) == 1
    out = capsys.readouterr().out
    assert "problem [demo_data] SHIELDWALL_DATABASE_URL: demo data of `serve --demo`" in out
    assert DEMO_BANK in out


def test_invalid_settings_exit_2(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHIELDWALL_REDIS_KEY_PREFIX", "two words")
    get_settings.cache_clear()
    assert run(["check", "--offline"]) == 2
    assert "SHIELDWALL_REDIS_KEY_PREFIX" in capsys.readouterr().err


def test_migrate_brings_an_empty_database_to_this_version(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _sound_env(monkeypatch)
    assert run(["check", "--json"]) == 1
    codes = [p["code"] for p in json.loads(capsys.readouterr().out)["problems"]]
    assert codes == ["schema_not_current"]
    assert run(["migrate"]) == 0
    head = Database.head_revision()
    assert f"to {head}" in capsys.readouterr().out
    assert run(["migrate"]) == 0
    assert f"at {head} already" in capsys.readouterr().out
    assert run(["check"]) == 0


def test_check_knows_what_serve_demo_makes() -> None:
    from shieldwall.cli import serve
    from shieldwall.deployment import DEMO_KEY, DEMO_USER

    assert (serve.DEMO_BANK, serve.DEMO_USER) == (DEMO_BANK, DEMO_USER)
    assert f'create_key(db, "{DEMO_KEY}",' in Path(serve.__file__).read_text()


def test_a_preview_source_the_outbound_policy_refuses_is_named(tmp_path: Path) -> None:
    # issue 19 point 4: the preview address is checked when it is set, not at each fetch only
    internal = "http://127.0.0.1:9/review/{content_id}"
    settings = Settings(**{**SOUND, "data_dir": tmp_path, "preview_url_template": internal})
    problems = [p for p in check_deployment(settings, FLEET) if p.code == "preview_source_refused"]
    assert len(problems) == 1
    assert problems[0].setting == "SHIELDWALL_PREVIEW_URL_TEMPLATE"
    assert "127.0.0.1, a loopback address" in problems[0].message
    allowed = settings.model_copy(update={"outbound_allowed_networks": ["127.0.0.0/8"]})
    codes = [p.code for p in check_deployment(allowed, FLEET)]
    assert "preview_source_refused" not in codes


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("https://cdn.platform.test/review/latest.jpg", "has no {content_id}"),
        ("ftp://cdn.platform.test/{content_id}", "http or https URL"),
        ("/review/{content_id}", "http or https URL"),
    ],
)
def test_a_preview_template_that_cannot_work_is_an_invalid_setting(
    template: str, message: str
) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        Settings(preview_url_template=template)
