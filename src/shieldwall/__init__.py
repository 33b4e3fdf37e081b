"""Shieldwall: hash banks, matching, case handling and code scanning against NCII and deepfakes.

The library face: ``import shieldwall`` gives the same functions the CLI and the service call.

    >>> import shieldwall
    >>> result = shieldwall.hash_file("photo.jpg")          # doctest: +SKIP
    >>> result.signals["pdq"].value                          # doctest: +SKIP
    'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'
"""

from shieldwall._version import __version__
from shieldwall.errors import ShieldwallError
from shieldwall.hashing import HashResult, hash_bytes, hash_file, hash_many

__all__ = [
    "HashResult",
    "ShieldwallError",
    "__version__",
    "hash_bytes",
    "hash_file",
    "hash_many",
]
