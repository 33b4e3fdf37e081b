"""Exact lookup for cryptographic digests (MD5, SHA-256): a digest either matches or it does not."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from shieldwall.errors import MalformedSignal, NotFound

__all__ = ["ExactIndex"]


class ExactIndex:
    """Ids stored under each digest of one fixed length (16 bytes for MD5, 32 for SHA-256).

    Example::

        md5 = ExactIndex(16)
        md5.add(3, "d41d8cd98f00b204e9800998ecf8427e")
        md5.lookup("D41D8CD98F00B204E9800998ECF8427E")   # [3]
    """

    def __init__(self, digest_bytes: int) -> None:
        """An empty index for digests of ``digest_bytes`` bytes."""
        self.digest_bytes = digest_bytes
        self._ids: dict[bytes, list[int]] = {}
        self._count = 0
        self._lock = threading.Lock()

    def digest(self, value: str | bytes) -> bytes:
        """``value`` (hex digits in either case, or raw bytes) as raw bytes of the right length.

        Raises :class:`~shieldwall.errors.MalformedSignal` otherwise.
        """
        if isinstance(value, str):
            try:
                value = bytes.fromhex(value)
            except ValueError as exc:
                raise MalformedSignal(f"not a hexadecimal digest: {value!r}") from exc
        if len(value) != self.digest_bytes:
            raise MalformedSignal(
                f"expected a {self.digest_bytes}-byte digest, got {len(value)} bytes"
            )
        return bytes(value)

    def __len__(self) -> int:
        """Number of live entries."""
        return self._count

    def add(self, id: int, value: str | bytes) -> None:
        """Store ``value`` under ``id``; visible to the next lookup."""
        key = self.digest(value)
        with self._lock:
            self._ids.setdefault(key, []).append(id)
            self._count += 1

    def remove(self, id: int, value: str | bytes) -> None:
        """Remove one entry ``id`` stored under ``value``; raises NotFound when absent."""
        key = self.digest(value)
        with self._lock:
            ids = self._ids.get(key)
            if ids is None or id not in ids:
                raise NotFound(f"no entry {id} with digest {key.hex()} in the index")
            ids.remove(id)
            if not ids:
                del self._ids[key]
            self._count -= 1

    def lookup(self, value: str | bytes) -> list[int]:
        """Ids stored under exactly ``value``, ascending (empty when none)."""
        key = self.digest(value)
        with self._lock:
            return sorted(self._ids.get(key, ()))

    def items(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
        """All entries as ``(ids, digests)`` arrays, digests (n, digest_bytes) ``uint8``."""
        with self._lock:
            ids: list[int] = []
            keys: list[bytes] = []
            for key, group in self._ids.items():
                for id_ in group:
                    ids.append(id_)
                    keys.append(key)
        digests = np.frombuffer(b"".join(keys), np.uint8).reshape(-1, self.digest_bytes)
        return np.array(ids, np.int64), digests
