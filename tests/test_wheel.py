"""The wheel: ``pip wheel`` builds it with the version in its name, and a fresh virtual
environment installs it and runs ``shieldwall --version`` from it (not from this checkout).

The fresh environment gets the wheel alone (``--no-deps``); the dependencies are read from this
environment's site-packages through a ``.pth`` line, which adds the directory to ``sys.path``
without running its own ``.pth`` files (so the editable install of the checkout stays out)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from shieldwall._version import __version__

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@pytest.mark.slow
def test_the_wheel_installs_and_names_its_version(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        timeout=TIMEOUT,
        env=_clean_env(),
    )
    wheels = list(out.glob("*.whl"))
    # The index's C kernels are in it (hatch_build.py), so the wheel is for this Python and
    # platform: shieldwall-0.1.0-cp311-cp311-linux_x86_64.whl.
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert len(wheels) == 1
    assert wheels[0].name.startswith(f"shieldwall-{__version__}-{tag}-{tag}-"), wheels[0].name

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    ).stdout.strip()
    Path(site, "deps-from-the-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheels[0])],
        check=True,
        timeout=TIMEOUT,
        env=_clean_env(),
    )

    def output(*command: str) -> str:
        """What a command of the fresh environment prints, run outside this checkout."""
        done = subprocess.run(
            list(command),
            check=True,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=_clean_env(),
            cwd=tmp_path,
        )
        return done.stdout.strip()

    assert output(str(env_dir / "bin" / "shieldwall"), "--version") == f"shieldwall {__version__}"
    where = output(str(python), "-c", "import shieldwall; print(shieldwall.__file__)")
    assert Path(where).is_relative_to(env_dir), where  # the wheel's copy, not the checkout
    kernels = output(
        str(python), "-c", "import shieldwall.index._kernels as k; print(k.IMPLEMENTATION)"
    )
    assert kernels == "c"  # the compiled kernels came along and load
    # What the service needs beside the code came along: migrations, templates, static files.
    package = Path(where).parent
    for part in (
        "store/migrations/env.py",
        "web/templates/base.html",
        "web/static/console.js",
        "py.typed",
    ):
        assert (package / part).is_file(), part
