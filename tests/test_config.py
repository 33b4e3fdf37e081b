"""Settings: environment, *_FILE secrets, TOML file, validation, and documentation."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from shieldwall.config import Settings, unknown_variables
from shieldwall.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIELDWALL_MAX_IMAGE_PIXELS", "1234")
    assert Settings.load().max_image_pixels == 1234


def test_file_variant_reads_the_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "workers"
    secret.write_text("3\n")
    monkeypatch.setenv("SHIELDWALL_WORKERS_FILE", str(secret))
    assert Settings.load().workers == 3


def test_unreadable_file_variant_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SHIELDWALL_WORKERS_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="SHIELDWALL_WORKERS_FILE"):
        Settings.load()


def test_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text("max_media_bytes = 4096\n")
    monkeypatch.setenv("SHIELDWALL_CONFIG", str(config))
    assert Settings.load().max_media_bytes == 4096


def test_bad_value_fails_fast_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIELDWALL_VIDEO_FRAME_QUALITY_FLOOR", "150")
    with pytest.raises(ConfigError, match="SHIELDWALL_VIDEO_FRAME_QUALITY_FLOOR"):
        Settings.load()


def test_unknown_setting_in_toml_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "shieldwall.toml"
    config.write_text("max_media_byte = 4096\n")
    monkeypatch.setenv("SHIELDWALL_CONFIG", str(config))
    with pytest.raises(ConfigError, match="MAX_MEDIA_BYTE"):
        Settings.load()


def test_a_misspelled_variable_is_warned_about_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SHIELDWALL_DATABSE_URL", "sqlite:///elsewhere.db")
    with caplog.at_level(logging.WARNING, logger="shieldwall.config"):
        settings = Settings.load()
    assert settings.database_url is None  # the misspelled variable was not read
    assert [r.getMessage() for r in caplog.records] == [
        "SHIELDWALL_DATABSE_URL is not a setting; did you mean SHIELDWALL_DATABASE_URL?"
    ]


def test_unknown_variables_names_the_nearest_setting_or_file_form() -> None:
    assert unknown_variables(
        {
            "SHIELDWALL_WORKER": "2",
            "SHIELDWALL_PREVIEW_AUTHORISATION_FILE": "/run/secrets/preview",
            "SHIELDWALL_ZZZ": "1",
            "OTHER_DATABSE_URL": "not ours",
        }
    ) == [
        "SHIELDWALL_PREVIEW_AUTHORISATION_FILE is not a setting; "
        "did you mean SHIELDWALL_PREVIEW_AUTHORIZATION_FILE?",
        "SHIELDWALL_WORKER is not a setting; did you mean SHIELDWALL_WORKERS?",
        "SHIELDWALL_ZZZ is not a setting; docs/configuration.md lists the settings",
    ]


def test_settings_their_file_forms_and_known_variables_are_not_warned_about() -> None:
    assert (
        unknown_variables(
            {
                "SHIELDWALL_DATABASE_URL": "sqlite:///x.db",
                "SHIELDWALL_PREVIEW_AUTHORIZATION_FILE": "/run/secrets/preview",
                "shieldwall_workers": "2",
                "SHIELDWALL_CONFIG": "shieldwall.toml",
                "SHIELDWALL_TEST_DATABASE_URL": "postgresql+psycopg://127.0.0.1/test",
                "SHIELDWALL_KEEP_SCREENSHOTS": "1",
                "SHIELDWALL_AXE_JS": ".cache/axe-core-4.14.1/axe.min.js",
                "SHIELDWALL_REQUIRE_AXE": "1",
            }
        )
        == []
    )


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`SHIELDWALL_{name.upper()}`" in doc, name


def test_role_names_are_the_roles() -> None:
    """The settings check role names without importing the people package (a higher layer)."""
    from shieldwall.config import ROLE_NAMES
    from shieldwall.people import Role

    assert set(ROLE_NAMES) == {r.value for r in Role}


def test_oidc_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown role"):
        Settings(data_dir=tmp_path, oidc_group_roles={"tns": ["boss"]})
    with pytest.raises(ValidationError, match="http"):
        Settings(data_dir=tmp_path, oidc_issuer="ftp://idp.example")
    s = Settings(
        data_dir=tmp_path,
        oidc_issuer="https://idp.example/",
        oidc_allowed_email_domains=["@Example.org"],
    )
    assert s.oidc_issuer == "https://idp.example"
    assert s.oidc_allowed_email_domains == ["example.org"]
