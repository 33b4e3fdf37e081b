"""``python -m shieldwall.guard script.py [args...]`` (or ``-c CODE``): run a Python program
with the runtime guard installed. Exit code 3 when the guard blocked an action."""

from __future__ import annotations

import runpy
import sys

from shieldwall.codescan.guard import install
from shieldwall.errors import ScanBlocked

USAGE = "usage: python -m shieldwall.guard script.py [args...] | -c CODE [args...]"


def main(argv: list[str]) -> int:
    """Run the program named by ``argv`` under the guard; return the exit code."""
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 2 if not argv else 0
    guard = install()
    try:
        if argv[0] == "-c" and len(argv) > 1:
            sys.argv = ["-c", *argv[2:]]
            code = compile(argv[1], "<string>", "exec")
            exec(code, {"__name__": "__main__"})  # noqa: S102 - running the user's program is the point
        else:
            sys.argv = list(argv)
            runpy.run_path(argv[0], run_name="__main__")
    except ScanBlocked:
        # The explanation was already printed when the action was stopped.
        return 3
    except SystemExit as exc:
        code_ = exc.code
        return code_ if isinstance(code_, int) else (0 if code_ is None else 1)
    return 3 if guard.blocked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
