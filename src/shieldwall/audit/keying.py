"""The audit chain's secret and its anchor, both kept outside the database.

- The key: HMAC-SHA-256 over each event (``SHIELDWALL_AUDIT_KEY``, best given as
  ``SHIELDWALL_AUDIT_KEY_FILE``; else ``<data_dir>/audit.key``, created on first use with mode
  0600). Someone who can write the database but not read the key cannot recompute the chain.
- The anchor: after each event commits, one JSON line (its ``seq``, ``hash``, key id and a MAC
  of the two) is appended to ``SHIELDWALL_AUDIT_ANCHOR_PATH`` (``<data_dir>/audit-anchor.jsonl``),
  so that deleting the newest rows, or all of them, is found: the anchor holds rows the table
  lacks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shieldwall.config import Settings
from shieldwall.errors import ConfigError

__all__ = [
    "AnchorLine",
    "AuditConfig",
    "AuditKey",
    "append_anchor",
    "config_from_settings",
    "generate_key_file",
    "load_key",
    "read_anchor",
]

log = logging.getLogger("shieldwall.audit")
_KEY_HEX = 64


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The chain's HMAC key; ``id`` is its public fingerprint (stored with each keyed row)."""

    secret: bytes

    @property
    def id(self) -> str:
        """The first 16 hex digits of SHA-256 over a label and the key: names it, reveals
        nothing."""
        return hashlib.sha256(b"shieldwall-audit-key-id\x00" + self.secret).hexdigest()[:16]

    def mac(self, body: bytes) -> str:
        """HMAC-SHA-256 of ``body`` in hex."""
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never the secret in a log or a traceback
        return f"AuditKey(id={self.id!r})"


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """How a process keys and anchors the chain (``None``: not keyed / not anchored)."""

    key: AuditKey | None
    anchor: Path | None


def _parse_key(text: str, where: str) -> AuditKey:
    value = text.strip()
    if len(value) != _KEY_HEX or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise ConfigError(
            f"the audit key in {where} must be {_KEY_HEX} hex digits (32 random bytes); "
            "`shieldwall audit keygen FILE` makes one"
        )
    return AuditKey(bytes.fromhex(value))


def generate_key_file(path: Path) -> AuditKey:
    """Write a new random key to ``path`` (which must not exist), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AuditKey(secrets.token_bytes(32))
    # Written whole under a private name, then linked into place: a process racing this one
    # never reads a half-written key, and an existing key is never replaced (FileExistsError).
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, (key.secret.hex() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
    return key


def load_key(settings: Settings, *, create: bool = False) -> AuditKey | None:
    """The key of ``settings`` (``audit_key``, else ``<data_dir>/audit.key``); with ``create``
    the default file is made when absent (several processes racing make one)."""
    if settings.audit_key is not None:
        return _parse_key(settings.audit_key.get_secret_value(), "SHIELDWALL_AUDIT_KEY")
    path = settings.data_dir / "audit.key"
    if not path.exists():
        if not create:
            return None
        try:
            key = generate_key_file(path)
        except FileExistsError:
            pass
        else:
            log.warning(
                "created the audit chain's key %s: back it up apart from the database, and give "
                "every process of this instance the same key (SHIELDWALL_AUDIT_KEY_FILE)",
                path,
            )
            return key
    try:
        return _parse_key(path.read_text(encoding="ascii"), str(path))
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot read the audit key {path}: {exc}") from exc


def config_from_settings(settings: Settings, *, create: bool = True) -> AuditConfig:
    """The key and anchor of ``settings`` (the key file made when absent, with ``create``)."""
    return AuditConfig(load_key(settings, create=create), settings.resolved_audit_anchor_path())


@dataclass(frozen=True, slots=True)
class AnchorLine:
    """One anchored event: its sequence number, hash and key id, and the line's number."""

    line: int
    seq: int
    hash: str
    key_id: str | None
    mac: str | None


def _anchor_body(seq: int, digest: str, key_id: str | None) -> bytes:
    return f"anchor\x00{seq}\x00{digest}\x00{key_id or ''}".encode("ascii")


def append_anchor(config: AuditConfig, heads: list[tuple[int, str, str | None]]) -> None:
    """Append one line per ``(seq, hash, key_id)`` to the anchor file (``O_APPEND``: lines of
    several processes never interleave). A failure is logged, never raised: the events are
    committed already, and ``audit verify`` reports them as not anchored."""
    if config.anchor is None or not heads:
        return
    lines = []
    for seq, digest, key_id in heads:
        mac = config.key.mac(_anchor_body(seq, digest, key_id)) if config.key else None
        lines.append(json.dumps({"seq": seq, "hash": digest, "key_id": key_id, "mac": mac}))
    data = ("\n".join(lines) + "\n").encode("ascii")
    try:
        config.anchor.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(config.anchor, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError:
        log.exception("could not anchor audit events %s in %s", heads[0][0], config.anchor)


def read_anchor(path: Path) -> Iterator[AnchorLine | int]:
    """The anchor's lines in file order; a malformed line is its line number instead."""
    with path.open(encoding="ascii", errors="replace") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                yield AnchorLine(
                    number,
                    int(item["seq"]),
                    str(item["hash"]),
                    item.get("key_id"),
                    item.get("mac"),
                )
            except (ValueError, KeyError, TypeError):
                yield number


def anchor_mac_ok(key: AuditKey, line: AnchorLine) -> bool:
    """Whether an anchor line's MAC is the key's (a forged line is not)."""
    if line.mac is None:
        return line.key_id is None
    expected = key.mac(_anchor_body(line.seq, line.hash, line.key_id))
    return hmac.compare_digest(expected, line.mac)
