"""Fixtures for matching: a block bank, an allow bank and a review bank with known hashes."""

from __future__ import annotations

import pytest

from shieldwall.banks import create_bank
from shieldwall.config import Settings
from shieldwall.store import Database


@pytest.fixture
def banks(db: Database) -> Database:
    create_bank(db, "ncii", "block")
    create_bank(db, "memes", "allow")
    create_bank(db, "suspect", "review", thresholds={"pdq": 10})
    return db


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings.load(flood_max_contents=3, flood_window_seconds=3600)
