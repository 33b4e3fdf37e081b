"""The Redis server of this machine (127.0.0.1:6379) for the tests of what replicas share;
each test gets keys of its own (a unique prefix), removed afterwards, so that tests running in
parallel do not collide. Tests skip when no Redis answers there."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from shieldwall.replicas import SharedStore

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    """Whether a Redis answers PING on 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the local Redis (skips without one); its keys are
    removed after the test."""
    if not redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"sw-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    SharedStore(REDIS_URL, prefix=prefix).clear()
