"""``make bench``: run every benchmark in this folder and record its results in
docs/benchmarks.md.

A benchmark is a ``bench/NAME.py`` run as a script. Those that write their own section of
docs/benchmarks.md (through ``_report.write_section``) do so; for the others, what they print
(markdown) becomes their section, with the command that reproduces it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name.startswith("_") or script.name == "run_all.py":
            continue
        print(f"== {script.name}", flush=True)
        writes_own = "write_section(" in script.read_text()
        proc = subprocess.run(
            [sys.executable, str(script)],
            check=False,
            stdout=None if writes_own else subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0:
            failed.append(script.name)
            continue
        if not writes_own:
            print(proc.stdout)
            # Markdown only: raw JSON records some benchmarks also print stay on the console.
            body = "\n".join(
                line for line in proc.stdout.splitlines() if not line.lstrip().startswith("{")
            )
            if not body.lstrip().startswith("#"):
                body = f"## {script.stem}\n\n{body}"
            write_section(script.stem, body, f"python bench/{script.name}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
