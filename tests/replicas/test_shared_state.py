"""What replicas share, on both backends: a moving window allows exactly its amount whichever
replica counts, a lock-out holds for all of them, a revocation reaches a follower, and a Redis
that fails leaves each process limiting on its own instead of failing the request.

"Two replicas" on Redis are two :class:`SharedStore` objects with their own connections and the
same prefix (what two processes are); tests/service/test_replicas_redis.py runs two real
``shieldwall serve`` processes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from redis_helpers import REDIS_URL, redis_prefix
from shieldwall.cli import run
from shieldwall.config import Settings, get_settings
from shieldwall.errors import AccountLocked, ConfigError, LoginFailed
from shieldwall.people.accounts import authenticate
from shieldwall.people.keys import create_key
from shieldwall.replicas import Lockout, MovingWindow, Revocations, SharedStore, window_for_rate
from shieldwall.store import Database

__all__ = ["redis_prefix"]  # the fixture, imported for its use here

#: A replica's store, made twice per test: the same memory store (one process) or two Redis
#: clients on one prefix (two processes).
Pair = tuple[SharedStore, SharedStore]


@pytest.fixture(params=["memory", "redis"])
def pair(request: pytest.FixtureRequest) -> Pair:
    if request.param == "memory":
        one = SharedStore()
        return one, one
    prefix = request.getfixturevalue("redis_prefix")
    return SharedStore(REDIS_URL, prefix=prefix), SharedStore(REDIS_URL, prefix=prefix)


def test_a_window_allows_its_amount_across_replicas(pair: Pair) -> None:
    a, b = (MovingWindow(s, "pin", amount=5, seconds=600) for s in pair)
    allowed = [w.hit("tn:T-1") == 0 for w in (a, b) * 6]  # 12 tries, alternating
    assert allowed.count(True) == 5 and allowed[:5] == [True] * 5
    assert a.wait("tn:T-1") > 0 and b.wait("tn:T-1") > 0
    assert 0 < b.hit("tn:T-1") <= 600  # a refusal says how long to wait
    # Another key has its own window; waiting counts nothing.
    assert a.wait("tn:T-2") == 0 and b.wait("tn:T-2") == 0 and a.hit("tn:T-2") == 0


def test_windows_of_different_rates_and_names_are_apart(pair: Pair) -> None:
    slow = window_for_rate(pair[0], "key", 0.01, window_seconds=300)  # 3 per 300 s
    assert (slow.amount, slow.seconds) == (3, 300)
    fast = window_for_rate(pair[1], "key", 100.0)  # 200 per 2 s
    assert (fast.amount, fast.seconds) == (200, 2)
    one = window_for_rate(pair[0], "address", 0.2)  # at least one: 1 per 5 s
    assert (one.amount, one.seconds) == (1, 5)
    assert [slow.hit("7") == 0 for _ in range(4)] == [True, True, True, False]
    assert fast.hit("7") == 0 and one.hit("7") == 0 and one.hit("7") > 0


def test_a_lockout_holds_for_every_replica(pair: Pair) -> None:
    a, b = (Lockout(s, "login", max_failures=3, lock_seconds=600) for s in pair)
    assert a.failed("mallory") == 0 and b.failed("mallory") == 0
    assert a.locked_for("mallory") == 0
    assert b.failed("mallory") == 600  # the third, on either replica, locks
    assert 0 < a.locked_for("mallory") <= 600 and 0 < b.locked_for("mallory") <= 600
    assert a.locked_for("alice") == 0


def test_a_window_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MovingWindow(SharedStore(), "x", amount=0, seconds=1)
    with pytest.raises(ValueError, match="positive"):
        window_for_rate(SharedStore(), "x", 0.0)


def test_a_failing_redis_leaves_each_process_limiting_on_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 1: every call fails and this process's memory stands in.
    store = SharedStore("redis://127.0.0.1:1/0", prefix="sw-test-down")
    window = MovingWindow(store, "pin", amount=2, seconds=600)
    with caplog.at_level(logging.WARNING, logger="shieldwall.replicas"):
        assert [window.hit("k") == 0 for _ in range(3)] == [True, True, False]
    assert "Redis failed" in caplog.text
    assert sum("Redis failed" in r.message for r in caplog.records) == 1  # once a minute
    with pytest.raises(ConfigError, match="does not answer"):
        store.ping()


def test_a_bad_redis_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL"):
        SharedStore("http://127.0.0.1:6379")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Revocations("http://127.0.0.1:6379")


def _until(predicate: Callable[[], bool], timeout: float = 120.0) -> bool:
    done = threading.Event()
    deadline = threading.Timer(timeout, done.set)
    deadline.start()
    try:
        while not predicate():
            if done.wait(0.02):
                return False
        return True
    finally:
        deadline.cancel()


def test_a_revocation_reaches_a_follower(redis_prefix: str) -> None:
    heard: list[str | None] = []
    follower = Revocations(REDIS_URL, prefix=redis_prefix)
    stop = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(heard.append, stop), daemon=True)
    thread.start()
    try:
        assert _until(lambda: None in heard)  # subscribed: what it cached before is dropped
        announcer = Revocations(REDIS_URL, prefix=redis_prefix)
        announcer.announce("0a1b2c3d")
        assert _until(lambda: "0a1b2c3d" in heard)
        announcer.close()
        # Another prefix is another deployment: not heard.
        other = Revocations(REDIS_URL, prefix=redis_prefix + "-other")
        other.announce("ffffffff")
        announcer = Revocations(REDIS_URL, prefix=redis_prefix)
        announcer.announce("11111111")
        assert _until(lambda: "11111111" in heard)
        assert "ffffffff" not in heard
        other.close()
        announcer.close()
    finally:
        stop.set()
        thread.join(timeout=30)
        follower.close()
    assert not thread.is_alive()


def test_without_redis_revocations_are_local() -> None:
    local = Revocations()
    assert not local.shared
    local.announce("0a1b2c3d")  # nothing to tell
    local.follow(lambda _p: pytest.fail("nothing to follow"), threading.Event())  # returns


def test_unknown_usernames_are_locked_across_replicas(
    db: Database, redis_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        redis_url=REDIS_URL,
        redis_key_prefix=redis_prefix,
        login_max_failures=3,
    )
    with pytest.raises(LoginFailed):
        authenticate(db, "ghost", "wrong password", settings=settings)
    # Another replica (its own connection to the same Redis) counts the second failure.
    other = Lockout(
        SharedStore(REDIS_URL, prefix=redis_prefix), "login", max_failures=3, lock_seconds=900
    )
    assert other.failed("ghost") == 0
    with pytest.raises(AccountLocked):  # the third, back here, locks: as a real account would
        authenticate(db, "ghost", "wrong password", settings=settings)
    assert other.locked_for("ghost") > 0


def test_a_key_revoked_from_the_command_line_is_announced(
    cli_env: str, db: Database, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIELDWALL_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("SHIELDWALL_REDIS_KEY_PREFIX", redis_prefix)
    get_settings.cache_clear()
    info, _ = create_key(db, "leaked", "match")
    heard: list[str | None] = []
    follower = Revocations(REDIS_URL, prefix=redis_prefix)
    stop = threading.Event()
    thread = threading.Thread(target=follower.follow, args=(heard.append, stop), daemon=True)
    thread.start()
    try:
        assert _until(lambda: None in heard)
        assert run(["key", "revoke", info.prefix]) == 0
        assert _until(lambda: info.prefix in heard)
    finally:
        stop.set()
        thread.join(timeout=30)
        follower.close()


def test_a_follower_of_a_dead_redis_warns_once_and_stops_when_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    follower = Revocations("redis://127.0.0.1:1/0", prefix="sw-test-down")
    heard: list[str | None] = []
    stop = threading.Event()
    with caplog.at_level(logging.WARNING, logger="shieldwall.replicas"):
        thread = threading.Thread(target=follower.follow, args=(heard.append, stop), daemon=True)
        thread.start()
        assert _until(lambda: "following key revocations failed" in caplog.text)
        follower.announce("0a1b2c3d")  # logged, not raised: the database has the revocation
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive() and heard == []
    assert sum("following key revocations failed" in r.message for r in caplog.records) == 1
    assert "announcing the revocation of 0a1b2c3d failed" in caplog.text
    follower.close()
