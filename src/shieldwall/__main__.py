"""``python -m shieldwall`` is the ``shieldwall`` command."""

from shieldwall.cli import main

main()
