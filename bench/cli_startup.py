"""How fast ``shieldwall --version`` and ``shieldwall --help`` start, against an older tree.

Each command runs ``ROUNDS`` times in a fresh interpreter (``python -m shieldwall ...``), for
this checkout's sources and for those of ``--before`` (a git ref, default the commit before
the lazy imports of issue 16); the section gives the median and the best wall time of each,
the ratio, and how many modules were imported and which heavy ones (NumPy, Pillow,
SQLAlchemy, FastAPI, OpenCV, PyAV, ...).

    python bench/cli_startup.py [--before REF] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, write_section

#: The base of issue 16's branch: every command module imported NumPy and SQLAlchemy.
BEFORE = "e80090b"
HEAVY = ("numpy", "PIL", "sqlalchemy", "fastapi", "cv2", "av", "alembic", "pydantic", "uvicorn")
_PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['shieldwall', *{args!r}]\n"
    "try:\n"
    "    runpy.run_module('shieldwall', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "import json\n"
    "print(json.dumps({{'modules': len(sys.modules), "
    "'heavy': sorted(m for m in {heavy!r} if m in sys.modules)}}), file=sys.stderr)\n"
)


def _tree(ref: str, folder: Path) -> Path:
    """The ``src`` folder of ``ref``, exported into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _measure(src: Path, args: list[str], rounds: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = _PROBE.format(args=args, heavy=HEAVY)
    times = []
    info: dict[str, object] = {}
    for _ in range(rounds):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        times.append(time.perf_counter() - start)
        info = json.loads(proc.stderr.strip().splitlines()[-1])
    return {"median": statistics.median(times), "best": min(times), **info}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="git ref to compare with")
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before = _tree(options.before, Path(tmp))
        for args in (["--version"], ["--help"]):
            old = _measure(before, args, options.rounds)
            new = _measure(ROOT / "src", args, options.rounds)
            ratio = float(old["median"]) / float(new["median"])  # type: ignore[arg-type]
            for label, m in ((f"before ({options.before})", old), ("now", new)):
                heavy = ", ".join(m["heavy"]) or "none"  # type: ignore[arg-type]
                rows.append(
                    f"| `shieldwall {' '.join(args)}` | {label} | {m['median']:.3f} | "
                    f"{m['best']:.3f} | {m['modules']} | {heavy} |"
                )
            rows.append(f"| | **{ratio:.1f}x** faster (median) | | | | |")
    body = "\n".join(
        [
            "## CLI start-up (issue 16)",
            "",
            f"A fresh interpreter per run, {options.rounds} runs each; wall time in seconds "
            "(the machine is shared, so the median counts). Heavy modules are imported only "
            "by the commands that need them (tests/cli/test_startup.py keeps `--version` and "
            "`--help` free of them).",
            "",
            "| command | tree | median s | best s | modules imported | heavy modules |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    write_section("cli_startup", body, "python bench/cli_startup.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
