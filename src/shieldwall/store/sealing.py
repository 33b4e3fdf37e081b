"""Hashes protected at rest (opt-in): bank signal values in the database and index snapshot
files (and backups) sealed with keys from a file.

The key file (``at_rest_keys_file``) holds one key a line, ``<key id> <base64 of 32 random
bytes>`` (``#`` starts a comment). The **last** key seals new values; every key in the file
opens what it sealed, so a rotation adds a key at the end, re-seals (``shieldwall at-rest
rotate``), and only then removes the old line. ``shieldwall at-rest new-key`` writes one.

Two constructions, both from ``cryptography``, with keys derived from each file key by HKDF:

- **Database values** (:class:`SealedString` and :class:`SealedText`, on ``bank_signal.value``,
  ``signal_log.value``, ``bank_signal_value.value`` and ``victim_share.value``: the hashes
  people shared from their own device) are sealed with AES-SIV, a *deterministic*
  authenticated cipher: the same value under the same key gives the same text,
  ``s1:<key id>:<base64>``.
  That is what keeps the SQL-side exact lookups working (adding a hash a bank already holds
  finds the row by its ``(bank, type, value)`` unique index; withdrawals and exports look
  values up by equality): the sealed text is its own keyed blind index. The trade-off, the
  same as any blind index's: someone who reads the database learns which rows hold equal
  values (the unique index shows that anyway), never the values; and lookups compare sealed
  texts of the current key, so a rotation re-seals every row in one transaction while writers
  are stopped (docs/security.md, "Hashes at rest").
- **Files** (:func:`seal_stream`, :func:`open_sealed`: index snapshots, backups) are sealed
  with AES-256-GCM in 1 MiB chunks under a key derived for that file from a random salt; each
  chunk's nonce counts the chunks and marks the last, so a reordered, cut or extended file is
  refused, as is any changed byte.

Matching needs the plaintext: values are opened as they are read, and the in-memory index
holds them as always.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final
from weakref import WeakKeyDictionary

from sqlalchemy import String, Text, TypeDecorator
from sqlalchemy.engine import Dialect

from shieldwall.errors import ConfigError, SealError

if TYPE_CHECKING:  # cryptography loads with the first key (about 9 MiB a process without one)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV

__all__ = [
    "FILE_MAGIC",
    "Keyring",
    "SealedString",
    "SealedText",
    "SealedWriter",
    "attach",
    "is_sealed_file",
    "keyring_of",
    "new_key_line",
    "open_sealed",
    "seal_stream",
    "sealed_key_id",
]

#: First bytes of a sealed file.
FILE_MAGIC: Final = b"\x89SWSEAL\n"
_FILE_VERSION: Final = 1
_CHUNK: Final = 1 << 20
_SALT: Final = 16
_TAG: Final = 16
_PREFIX: Final = "s1:"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_HEX = re.compile(r"^(?:[0-9a-f]{2})+$")


@dataclass(frozen=True, slots=True)
class _Key:
    id: str
    column: AESSIV
    file_secret: bytes


def _derive(secret: bytes, info: bytes, length: int, salt: bytes | None = None) -> bytes:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 (loaded on first use)
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415 (loaded on first use)

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


class Keyring:
    """The keys of a key file: the last one seals, every one opens.

    >>> ring = Keyring.parse("k1 " + "A" * 43 + "=\\n")
    >>> ring.current_id
    'k1'
    """

    def __init__(self, keys: Sequence[tuple[str, bytes]], *, source: str = "keys") -> None:
        if not keys:
            raise ConfigError(f"{source}: no keys")
        from cryptography.hazmat.primitives.ciphers.aead import AESSIV  # noqa: PLC0415 (loaded on first use)

        self.source = source
        self._keys: dict[str, _Key] = {}
        for key_id, secret in keys:
            if key_id in self._keys:
                raise ConfigError(f"{source}: key id {key_id!r} appears twice")
            self._keys[key_id] = _Key(
                key_id,
                AESSIV(_derive(secret, b"shieldwall at-rest column v1", 64)),
                _derive(secret, b"shieldwall at-rest file v1", 32),
            )
        self.current_id = keys[-1][0]

    @property
    def key_ids(self) -> list[str]:
        """Every key id, oldest first (the last one seals)."""
        return list(self._keys)

    @classmethod
    def parse(cls, text: str, *, source: str = "keys") -> Keyring:
        """Read the key file format (see the module); :class:`ConfigError` naming the line."""
        keys: list[tuple[str, bytes]] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or not _KEY_ID.match(parts[0]):
                raise ConfigError(
                    f"{source}, line {number}: expected '<key id> <base64 key>' with a key id "
                    "of 1-16 letters, digits, - or _"
                )
            try:
                secret = base64.b64decode(parts[1], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ConfigError(f"{source}, line {number}: the key is not base64") from exc
            if len(secret) != 32:
                raise ConfigError(
                    f"{source}, line {number}: a key is 32 bytes, this one is {len(secret)}"
                )
            keys.append((parts[0], secret))
        return cls(keys, source=source)

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """The keys in ``path``; :class:`ConfigError` when it cannot be read or parsed."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"at_rest_keys_file {path}: cannot read: {exc.strerror}") from exc
        return cls.parse(text, source=f"at_rest_keys_file {path}")

    def _key(self, key_id: str, what: str) -> _Key:
        key = self._keys.get(key_id)
        if key is None:
            raise SealError(
                f"{what} is sealed with key {key_id!r}, which is not in {self.source} "
                f"(it has {', '.join(self._keys)}): add that key back to the file"
            )
        return key

    # -- database values ---------------------------------------------------------------

    def seal_value(self, value: str) -> str:
        """``value`` sealed with the current key (the same text every time)."""
        key = self._keys[self.current_id]
        if _HEX.match(value):  # hashes are hex: sealed as bytes, half the length
            plain = b"\x01" + bytes.fromhex(value)
        else:
            plain = b"\x00" + value.encode("utf-8")
        sealed = key.column.encrypt(plain, None)
        text = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")
        return f"{_PREFIX}{key.id}:{text}"

    def open_value(self, sealed: str) -> str:
        """The value of a text :meth:`seal_value` made; :class:`SealError` when its key is
        not here or the text was changed."""
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415 (loaded on first use)

        key_id, _, text = sealed[len(_PREFIX) :].partition(":")
        key = self._key(key_id, "a stored signal value")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            plain = key.column.decrypt(raw, None)
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(
                f"a stored signal value sealed with key {key_id!r} does not open: the key is "
                "wrong or the value was changed"
            ) from exc
        return plain[1:].hex() if plain[:1] == b"\x01" else plain[1:].decode("utf-8")

    # -- files --------------------------------------------------------------------------

    def _file_cipher(self, key_id: str, salt: bytes, what: str) -> AESGCM:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415 (loaded on first use)

        key = self._key(key_id, what)
        return AESGCM(_derive(key.file_secret, b"shieldwall sealed file", 32, salt))


def sealed_key_id(value: str) -> str | None:
    """The key id a stored value is sealed with, ``None`` for a plain value."""
    if not value.startswith(_PREFIX):
        return None
    return value[len(_PREFIX) :].partition(":")[0]


def new_key_line(key_id: str) -> str:
    """A key file line with a new random key."""
    if not _KEY_ID.match(key_id):
        raise ConfigError(f"key id {key_id!r}: use 1-16 letters, digits, - or _")
    return f"{key_id} {base64.b64encode(os.urandom(32)).decode('ascii')}\n"


# -- the column type ------------------------------------------------------------------------

_KEYRINGS: WeakKeyDictionary[Dialect, Keyring] = WeakKeyDictionary()


def attach(dialect: Dialect, keyring: Keyring | None) -> None:
    """Seal the values of this engine's :class:`SealedText` columns with ``keyring`` (or, with
    ``None``, store new values plain; sealed ones still need their keys to be read)."""
    if keyring is None:
        _KEYRINGS.pop(dialect, None)
    else:
        _KEYRINGS[dialect] = keyring


def keyring_of(dialect: Dialect) -> Keyring | None:
    """The keyring attached to an engine's dialect."""
    return _KEYRINGS.get(dialect)


def _bind(value: str | None, dialect: Dialect) -> str | None:
    if value is None or value.startswith(_PREFIX):
        return value
    keyring = _KEYRINGS.get(dialect)
    return value if keyring is None else keyring.seal_value(value)


def _result(value: Any, dialect: Dialect) -> str | None:
    if value is None:
        return None
    text = str(value)
    if not text.startswith(_PREFIX):
        return text
    keyring = _KEYRINGS.get(dialect)
    if keyring is None:
        raise SealError(
            f"a stored signal value is sealed with key {sealed_key_id(text)!r} and no "
            "at-rest keys are configured: set SHIELDWALL_AT_REST_KEYS_FILE"
        )
    return keyring.open_value(text)


class SealedString(TypeDecorator[str]):
    """A ``VARCHAR`` column whose values are sealed when the engine has a keyring
    (:func:`attach`).

    Binding seals (so equality comparisons and unique indexes work on the sealed text, see the
    module); reading opens whatever was sealed with any key of the ring, and reads plain
    values as they are (a database from before sealing was turned on, until it is re-sealed).
    A value that is sealed already is bound as it is (a backup being restored).
    """

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        bound = _bind(value, dialect)
        length = getattr(self.impl, "length", None)
        if bound is not None and value is not None and length and len(bound) > length > len(value):
            raise SealError(
                f"a {len(value)}-character signal value is {len(bound)} characters sealed, over "
                f"the column's {length}: a signal type with values this long cannot be sealed"
            )
        return bound

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return _result(value, dialect)


class SealedText(TypeDecorator[str]):
    """:class:`SealedString` for a ``TEXT`` column (a side-table value)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return _bind(value, dialect)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return _result(value, dialect)


# -- sealed files ---------------------------------------------------------------------------

_HEAD = struct.Struct("<8sBB")
_LEN = struct.Struct("<I")


def _nonce(counter: int, last: bool) -> bytes:
    return struct.pack(">QI", counter, 1 if last else 0)


class SealedWriter:
    """A writable binary stream that seals what is written to ``out`` (see the module); call
    :meth:`close` to write the last chunk (``out`` stays open)."""

    def __init__(self, out: IO[bytes], keyring: Keyring) -> None:
        self._out = out
        salt = os.urandom(_SALT)
        key_id = keyring.current_id.encode("ascii")
        self._header = _HEAD.pack(FILE_MAGIC, _FILE_VERSION, len(key_id)) + key_id + salt
        self._cipher = keyring._file_cipher(keyring.current_id, salt, "a file")
        out.write(self._header)
        self._buffer = bytearray()
        self._counter = 0
        self._position = 0
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``, sealing every full chunk."""
        view = memoryview(data).cast("B")
        self._position += len(view)
        start = 0
        if self._buffer:  # top up the partial chunk first
            start = min(len(view), _CHUNK - len(self._buffer))
            self._buffer += view[:start]
            if len(self._buffer) < _CHUNK or start == len(view):
                return len(view)  # the last chunk is only sealed once more follows, or at close
            self._emit(bytes(self._buffer), last=False)
            self._buffer.clear()
        # Whole chunks straight from the caller's buffer; always keep the tail for later, so
        # that the chunk marked last is the one close() seals.
        while len(view) - start > _CHUNK:
            self._emit(bytes(view[start : start + _CHUNK]), last=False)
            start += _CHUNK
        self._buffer += view[start:]
        return len(view)

    def tell(self) -> int:
        """Bytes of plaintext written so far."""
        return self._position

    def flush(self) -> None:
        """Nothing to do: chunks are written when full (and on :meth:`close`)."""

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(_nonce(self._counter, last), chunk, self._header)
        self._out.write(_LEN.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        """Seal the last chunk (possibly empty), which marks the end."""
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def seal_stream(out: IO[bytes], keyring: Keyring) -> SealedWriter:
    """A :class:`SealedWriter` onto ``out``."""
    return SealedWriter(out, keyring)


def is_sealed_file(head: bytes) -> bool:
    """Whether a file's first bytes are those of a sealed file."""
    return head.startswith(FILE_MAGIC)


def open_sealed(source: IO[bytes], keyring: Keyring | None, what: str) -> Iterator[bytes]:
    """The plaintext chunks of a sealed file, each checked before it is handed out;
    :class:`SealError` naming ``what`` when it is cut, changed or of a key not in ``keyring``."""
    head = source.read(_HEAD.size)
    if len(head) < _HEAD.size or not is_sealed_file(head):
        raise SealError(f"{what} is not a sealed file")
    _, version, id_length = _HEAD.unpack(head)
    if version != _FILE_VERSION:
        raise SealError(f"{what} is sealed in format {version}; this Shieldwall reads 1")
    rest = source.read(id_length + _SALT)
    if len(rest) < id_length + _SALT:
        raise SealError(f"{what} is truncated in its sealed header")
    key_id = rest[:id_length].decode("ascii", "replace")
    if keyring is None:
        raise SealError(
            f"{what} is sealed with key {key_id!r} and no at-rest keys are configured: set "
            "SHIELDWALL_AT_REST_KEYS_FILE"
        )
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415 (loaded on first use)

    header = head + rest
    cipher = keyring._file_cipher(key_id, rest[id_length:], what)
    counter = 0
    while True:
        length_bytes = source.read(_LEN.size)
        if len(length_bytes) < _LEN.size:
            raise SealError(f"{what} is truncated: its last sealed chunk is missing")
        (length,) = _LEN.unpack(length_bytes)
        if length < _TAG or length > _CHUNK + _TAG:
            raise SealError(f"{what} is damaged: a sealed chunk of {length} bytes")
        sealed = source.read(length)
        if len(sealed) < length:
            raise SealError(f"{what} is truncated inside a sealed chunk")
        for last in (False, True):
            try:
                chunk = cipher.decrypt(_nonce(counter, last), sealed, header)
            except InvalidTag:
                continue
            break
        else:
            raise SealError(
                f"{what} does not open with key {key_id!r}: the key is wrong or the file was "
                "changed"
            )
        counter += 1
        yield chunk
        if last:
            if source.read(1):
                raise SealError(f"{what} has bytes after its last sealed chunk")
            return
