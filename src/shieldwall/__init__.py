"""Shieldwall: hash banks, matching, case handling and code scanning against NCII and deepfakes.

The library face: ``import shieldwall`` gives the same functions the CLI and the service call.

    >>> import shieldwall
    >>> result = shieldwall.hash_file("photo.jpg")          # doctest: +SKIP
    >>> result.signals["pdq"].value                          # doctest: +SKIP
    'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shieldwall._version import __version__
from shieldwall.errors import ShieldwallError

if TYPE_CHECKING:
    from shieldwall.hashing import HashResult, hash_bytes, hash_file, hash_many

_LAZY = {"HashResult", "hash_bytes", "hash_file", "hash_many"}


def __getattr__(name: str) -> Any:
    # Hashing pulls in NumPy, Pillow and PyAV; the runtime guard and the code scanner, which
    # run inside other people's processes, must not pay for that on import.
    if name in _LAZY:
        from shieldwall import hashing  # noqa: PLC0415  (deliberately lazy)

        return getattr(hashing, name)
    raise AttributeError(f"module 'shieldwall' has no attribute {name!r}")


__all__ = [
    "HashResult",
    "ShieldwallError",
    "__version__",
    "hash_bytes",
    "hash_file",
    "hash_many",
]
