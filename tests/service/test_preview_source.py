"""The preview source (``SHIELDWALL_PREVIEW_URL_TEMPLATE``) is checked against the outbound
policy when the service starts (issue 19 point 4: a saved address is checked when saved): a
source that every fetch would refuse stops ``serve`` with a message naming the setting, instead
of a placeholder on every case page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service_helpers import free_port, service_settings
from shieldwall.errors import ConfigError
from shieldwall.server.app import create_app
from shieldwall.store import Database

SRC = Path(__file__).resolve().parents[2] / "src"
INTERNAL = "http://169.254.169.254/latest/{content_id}"


def test_the_app_refuses_a_preview_source_the_policy_refuses(db: Database, tmp_path: Path) -> None:
    settings = service_settings(tmp_path, db, preview_url_template=INTERNAL)
    with pytest.raises(ConfigError, match="SHIELDWALL_PREVIEW_URL_TEMPLATE") as refused:
        create_app(settings, db=db)
    assert "169.254.169.254" in refused.value.message
    assert "SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS" in refused.value.message
    # allowed by the operator: the same source starts
    allowed = settings.model_copy(update={"outbound_allowed_networks": ["169.254.169.254/32"]})
    assert create_app(allowed, db=db) is not None


def test_serve_stops_at_once_and_names_the_setting(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "SHIELDWALL_DATA_DIR": str(tmp_path / "data"),
        "SHIELDWALL_DATABASE_URL": f"sqlite:///{tmp_path / 'sw.db'}",
        "SHIELDWALL_PREVIEW_URL_TEMPLATE": "http://127.0.0.1:9/review/{content_id}",
    }
    command = [sys.executable, "-m", "shieldwall", "serve", "--port", str(free_port())]
    # a serve that started anyway would run until the timeout: the test then fails
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr[-2000:]
    said = " ".join(done.stderr.split())  # the console wraps long lines
    assert "SHIELDWALL_PREVIEW_URL_TEMPLATE" in said and "127.0.0.1, a loopback address" in said
    assert not (tmp_path / "sw.db").exists()  # refused before anything was made
