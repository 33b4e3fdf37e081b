"""The runtime guard (see :mod:`shieldwall.codescan.guard`).

Run a script under it with ``python -m shieldwall.guard script.py [args...]``, or in a notebook
kernel with ``%load_ext shieldwall.guard`` (or ``shieldwall.guard.install()``).
Audit hooks are telemetry, not a sandbox.
"""

from __future__ import annotations

from shieldwall.codescan.guard import Guard, install, load_ipython_extension

__all__ = ["Guard", "install", "load_ipython_extension"]
