"""Shared helpers of the benchmarks: pinning to one core, timing, and writing docs/benchmarks.md.

Each benchmark owns one section of ``docs/benchmarks.md`` between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->`` markers and rewrites only that section, so benchmarks can run separately.
"""

from __future__ import annotations

import os
import platform
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "docs" / "benchmarks.md"
SHARED_DATA = ROOT.parent / "shared" / "data"


def pin_to_one_core() -> str:
    """Run this process on one core (the benchmarks' figures are per core)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return "pinned to one core"
    return "not pinned (no sched_setaffinity)"


def machine() -> str:
    """One line describing where the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def best_of(rounds: int, fn: Callable[[], object]) -> float:
    """The fastest of ``rounds`` wall-clock runs of ``fn``, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def write_section(name: str, body: str, command: str) -> None:
    """Replace (or append) the ``name`` section of docs/benchmarks.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    section = (
        f"<!-- {name}:start -->\n{body.rstrip()}\n\n"
        f"Reproduce: `{command}` (measured {stamp} on {machine()}).\n<!-- {name}:end -->"
    )
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    pattern = re.compile(
        rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    BENCHMARKS_MD.write_text(text)
