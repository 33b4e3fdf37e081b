"""API keys: created with scopes and shown once, stored as a digest, listed, revoked; the
``shieldwall key`` commands."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shieldwall.cli import run
from shieldwall.errors import NotFound, UsageError
from shieldwall.people.keys import KeyCache, create_key, get_key, list_keys, revoke_key
from shieldwall.people.scopes import Scope
from shieldwall.store import Database
from shieldwall.store.models import ApiKey


def test_key_is_stored_as_a_digest_and_authenticates(db: Database) -> None:
    info, token = create_key(db, "uploads", "match,hash", rate_limit=5)
    assert info.scopes == [Scope.HASH, Scope.MATCH]
    with db.session() as session:
        row = session.scalar(select(ApiKey))
        assert row is not None
        assert token.split("_", 2)[2].encode() not in row.digest
        assert len(row.digest) == 32
    cache = KeyCache(db, ttl=0)
    found = cache.authenticate(token)
    assert found is not None and found.id == info.id and found.rate_limit == 5
    assert cache.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert cache.authenticate("sw_nothere_x") is None
    assert cache.authenticate("Bearer") is None
    revoke_key(db, info.prefix)
    assert cache.authenticate(token) is None
    assert get_key(db, info.id).revoked


def test_prefix_made_of_digits_is_not_taken_for_an_id(db: Database) -> None:
    info, _ = create_key(db, "a", "hash")
    with db.transaction() as session:
        row = session.get(ApiKey, info.id)
        assert row is not None
        row.prefix = "00000001"
    other, _ = create_key(db, "b", "hash")
    assert revoke_key(db, "00000001").id == info.id
    assert not get_key(db, other.id).revoked


@pytest.mark.parametrize(
    ("scopes", "message"),
    [("", "at least one scope"), ("match,owner", "unknown scope 'owner'")],
)
def test_bad_scopes_are_refused(db: Database, scopes: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        create_key(db, "k", scopes)
    assert list_keys(db) == []


def test_unknown_key(db: Database) -> None:
    with pytest.raises(NotFound):
        revoke_key(db, "deadbeef")


def test_cli(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["key", "create", "--scopes", "match,curate", "--name", "ci"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("sw_")
    assert run(["key", "list", "--format", "jsonl"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(k["name"], k["scopes"], k["revoked_at"]) for k in listed] == [
        ("ci", ["curate", "match"], None)
    ]
    assert token not in json.dumps(listed)
    assert run(["key", "revoke", token.split("_")[1]]) == 0
    assert run(["key", "list", "--format", "jsonl"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["revoked_at"] is not None
    assert run(["key", "create", "--scopes", "owner"]) == 2
    assert "unknown scope" in capsys.readouterr().err
    assert run(["key", "revoke", "nothere1"]) == 1
