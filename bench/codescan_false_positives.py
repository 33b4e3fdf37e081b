"""False positives on real code: scan every package of an installed Python, one by one.

Run: ``.venv/bin/python bench/codescan_false_positives.py [DIR ...]`` (default: this Python's
standard library and its ``site-packages``). Each top-level package directory is one scan; the
script prints a markdown summary with every package that was warned or blocked, and the rules
that fired, and writes it as its section of docs/benchmarks.md. Slow (minutes).
"""

from __future__ import annotations

import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_section  # noqa: E402
from shieldwall.codescan import Scanner, Verdict  # noqa: E402 - after the path set-up

SKIP = {"site-packages", "__pycache__"}


def packages(roots: list[Path]) -> list[Path]:
    """Top-level package directories under each root."""
    out: list[Path] = []
    for root in roots:
        for entry in sorted(root.iterdir()):
            if entry.is_dir() and entry.name not in SKIP and not entry.name.endswith(".dist-info"):
                out.append(entry)
    return out


def main(argv: list[str]) -> None:
    """Print the markdown summary."""
    paths = sysconfig.get_paths()
    roots = [Path(a) for a in argv] or [Path(paths["stdlib"]), Path(paths["purelib"])]
    scanner = Scanner()
    rules: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    flagged: list[str] = []
    start = time.perf_counter()
    found = packages(roots)
    for pkg in found:
        report = scanner.scan(paths=[pkg])
        rules.update(f.rule_id for f in report.findings)
        errors.update(e.code for e in report.errors)
        if report.verdict is not Verdict.ALLOW:
            ids = sorted({f.rule_id for f in report.findings})
            flagged.append(f"{pkg.name} ({report.verdict.value}: {', '.join(ids)})")
    elapsed = time.perf_counter() - start
    blocked = [f for f in flagged if "(block:" in f]
    lines = [
        "## Code scanner: false positives on installed packages",
        "",
        f"{len(found)} packages under {', '.join(str(r) for r in roots)}, {elapsed:.0f} s.",
        "",
        f"- blocked: {len(blocked)}; warned or blocked: {len(flagged)}"
        + (f" — {'; '.join(flagged)}" if flagged else ""),
        f"- findings by rule: {dict(rules.most_common()) or 'none'}",
        f"- inputs not scanned, by error: {dict(errors) or 'none'}",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("codescan_false_positives", body, "python bench/codescan_false_positives.py")


if __name__ == "__main__":
    main(sys.argv[1:])
