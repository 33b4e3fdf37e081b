from __future__ import annotations

import subprocess
import sys

from shieldwall import __version__
from shieldwall.cli import run


def test_version_flag_prints_the_package_version(capsys: object) -> None:
    assert run(["--version"]) == 0


def test_module_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "shieldwall", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"shieldwall {__version__}"
