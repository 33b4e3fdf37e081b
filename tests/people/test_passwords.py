"""Password and PIN hashing: argon2id at the cost of the settings (argon2-cffi's defaults unless
set), stored hashes verified by their own parameters and rehashed at login when the cost
changes, and the cost of the dummy hash of unknown accounts the same as a real one."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from shieldwall.config import Settings
from shieldwall.errors import ConfigError
from shieldwall.people import accounts as acc
from shieldwall.people.passwords import dummy_hash, hash_secret, needs_rehash, verify_secret
from shieldwall.store import Database
from shieldwall.store.models import Person

PASSWORD = "correct horse battery"
_PARAMS = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


def _cost(hashed: str) -> tuple[int, int, int]:
    """(memory KiB, time cost, parallelism) written in an argon2id hash."""
    found = _PARAMS.match(hashed)
    assert found, hashed
    m, t, p = found.groups()
    return int(m), int(t), int(p)


def test_production_defaults_are_argon2_cffis(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("SHIELDWALL_PASSWORD_HASH_")]:
        monkeypatch.delenv(name)  # the suite's cheap cost (tests/conftest.py)
    settings = Settings.load()
    default = PasswordHasher()
    assert (
        settings.password_hash_memory_kib,
        settings.password_hash_time_cost,
        settings.password_hash_parallelism,
    ) == (default.memory_cost, default.time_cost, default.parallelism)
    assert _cost(hash_secret(PASSWORD, settings)) == (65536, 3, 4)


def test_a_hash_is_made_at_the_settings_cost_and_verifies() -> None:
    settings = Settings.load(
        password_hash_time_cost=2, password_hash_memory_kib=64, password_hash_parallelism=2
    )
    hashed = hash_secret(PASSWORD, settings)
    assert _cost(hashed) == (64, 2, 2)
    assert hash_secret(PASSWORD, settings) != hashed  # salted
    assert verify_secret(hashed, PASSWORD)
    assert not verify_secret(hashed, PASSWORD + "x")
    assert not verify_secret("not a hash", PASSWORD)
    assert not needs_rehash(hashed, settings)
    assert needs_rehash(hashed, Settings.load(password_hash_time_cost=1))
    assert _cost(dummy_hash(settings)) == (64, 2, 2)  # unknown accounts cost the same


def test_too_little_memory_per_lane_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"SHIELDWALL_PASSWORD_HASH_PARALLELISM.*8 KiB"):
        Settings.load(password_hash_memory_kib=16, password_hash_parallelism=4)
    with pytest.raises(ConfigError, match="SHIELDWALL_PASSWORD_HASH_TIME_COST"):
        Settings.load(password_hash_time_cost=0)


def test_a_login_rehashes_a_password_made_at_another_cost(db: Database, tmp_path: Path) -> None:
    old = Settings.load(data_dir=tmp_path, password_hash_time_cost=2)
    new = Settings.load(data_dir=tmp_path, password_hash_time_cost=1)
    acc.create_person(db, "alice", PASSWORD, "reviewer", settings=old)

    def stored() -> str:
        with db.session() as session:
            hashed: str | None = session.scalar(select(Person.password_hash))
        assert hashed is not None
        return hashed

    assert _cost(stored())[1] == 2
    acc.authenticate(db, "alice", PASSWORD, settings=old)
    assert _cost(stored())[1] == 2  # same cost: left alone
    acc.authenticate(db, "alice", PASSWORD, settings=new)  # the old hash still verifies
    assert _cost(stored())[1] == 1
    acc.authenticate(db, "alice", PASSWORD, settings=new)
