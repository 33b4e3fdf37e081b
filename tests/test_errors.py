"""Errors travel as exceptions: every error of the tree survives pickling (results carry their
error from the hashing processes), and a result's error is the typed error itself, with its
HTTP status and exit code."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from shieldwall import errors
from shieldwall.errors import (
    EmptyMedia,
    InvalidNotice,
    MethodNotAllowed,
    RateLimited,
    ShieldwallError,
    UnsupportedMedia,
    WebhookDeliveryFailed,
)
from shieldwall.hashing import hash_file, hash_many


def _tree(cls: type[ShieldwallError]) -> list[type[ShieldwallError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _tree(sub))]


def _example(cls: type[ShieldwallError]) -> ShieldwallError:
    if issubclass(cls, RateLimited):
        return cls("slow down", 2.5)
    if issubclass(cls, InvalidNotice):
        return cls("invalid", [{"field": "reason", "message": "required"}])
    if issubclass(cls, MethodNotAllowed):
        return cls("not a method of this path", ["GET", "HEAD", "OPTIONS"])
    if issubclass(cls, WebhookDeliveryFailed):
        return cls("refused", retryable=False)
    return cls(f"a {cls.__name__}")


@pytest.mark.parametrize("cls", _tree(ShieldwallError), ids=lambda c: c.__name__)
def test_every_error_survives_pickling(cls: type[ShieldwallError]) -> None:
    error = _example(cls)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert (copy.message, str(copy), copy.code) == (error.message, str(error), error.code)
    extra: dict[str, Any] = vars(error)
    assert vars(copy) == extra


def test_every_error_of_the_module_is_in_the_tree() -> None:
    exported = {getattr(errors, name) for name in errors.__all__}
    assert exported == set(_tree(ShieldwallError))


def test_a_result_carries_the_typed_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("Dear diary, this is plain text.\n" * 10)
    result = hash_file(text, source="my-notes.jpg")
    assert isinstance(result.error, UnsupportedMedia)
    assert (result.error.http_status, result.error.exit_code) == (415, 1)
    assert result.error_message == "my-notes.jpg: not an image in a supported format"
    assert result.source == "my-notes.jpg"


def test_errors_come_back_typed_from_the_worker_processes(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("plain text\n" * 10)
    results = list(hash_many([empty, text], workers=2))
    assert [type(r.error) for r in results] == [EmptyMedia, UnsupportedMedia]
    assert results[0].error_message == f"{empty}: empty file (0 bytes)"
