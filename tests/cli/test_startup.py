"""``shieldwall --version`` and ``--help`` start without the heavy modules (issue 16 point 7):
each command imports NumPy, Pillow, SQLAlchemy, FastAPI, OpenCV, PyAV ... only when it runs.
Checked in a fresh interpreter's ``sys.modules``, not by timing (docs/benchmarks.md has the
times, from bench/cli_startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = (
    "numpy", "PIL", "sqlalchemy", "fastapi", "starlette", "uvicorn", "cv2", "av", "alembic",
    "pydantic", "pydantic_settings", "httpx", "argon2", "jinja2", "threadpoolctl",
)  # fmt: skip
_PROBE = """
import json, runpy, sys
sys.argv = ["shieldwall", *sys.argv[1:]]
try:
    runpy.run_module("shieldwall", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _start(*args: str) -> tuple[str, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found: dict[str, object] = json.loads(proc.stderr.strip().splitlines()[-1])
    return proc.stdout, found


#: What a command group's help may not import either (Typer's own help for a group imports
#: pydantic through ``typer._adapters``: not ours to avoid).
MEDIA_AND_SERVICE = ("numpy", "PIL", "sqlalchemy", "fastapi", "uvicorn", "cv2", "av", "alembic")


@pytest.mark.parametrize(
    ("args", "heavy"),
    [(["--version"], HEAVY), (["--help"], HEAVY), (["bank", "--help"], MEDIA_AND_SERVICE)],
)
def test_start_up_imports_no_heavy_module(args: list[str], heavy: tuple[str, ...]) -> None:
    out, found = _start(*args)
    assert found["code"] == 0 and out.strip()
    modules = found["modules"]
    assert isinstance(modules, list)
    loaded = sorted({m.split(".")[0] for m in modules} & set(heavy))
    assert loaded == [], f"shieldwall {' '.join(args)} imported {loaded}"


def test_a_command_that_needs_them_still_loads_them(tmp_path: Path) -> None:
    # the guard above must not pass because nothing ever imports them
    (tmp_path / "a.txt").write_text("not an image")
    _, found = _start("hash", str(tmp_path / "a.txt"))
    modules = found["modules"]
    assert isinstance(modules, list) and "numpy" in modules
