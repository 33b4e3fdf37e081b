"""Fixtures of the service tests: a live service on loopback and clients with keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service_helpers import LiveService, service_settings, start_service
from shieldwall.people.scopes import Scope
from shieldwall.store import Database


@pytest.fixture
def make_service(db: Database, tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """Start a service with settings overrides; stopped after the test."""
    started: list[LiveService] = []

    def make(**overrides: Any) -> LiveService:
        live = start_service(db, service_settings(tmp_path, db, **overrides))
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()


@pytest.fixture
def service(make_service: Callable[..., LiveService]) -> LiveService:
    """A service with default settings (keys re-read on every request)."""
    return make_service()


@pytest.fixture
def admin(service: LiveService) -> httpx.Client:
    """A client with every scope, distances included."""
    return service.client(service.key(f"{Scope.ADMIN.value},{Scope.READ_DISTANCES.value}"))
