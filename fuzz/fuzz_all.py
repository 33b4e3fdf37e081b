"""Run the fuzz targets one after the other (``make fuzz``), each under ``nice``, and print a
Markdown row per target: executions, executions per second, corpus size, crashes.

    python fuzz/fuzz_all.py [--runs N] [--seconds S] [target ...]

New inputs that reach new code go to ``.cache/fuzz/<target>/`` (git-ignored), never into the
committed seeds of ``fuzz/corpus/<target>/``; a crashing input to
``.cache/fuzz/artifacts/<target>-crash-<sha1>``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / ".cache" / "fuzz"

#: Per target: the longest input (libFuzzer's -max_len) and the seconds one input may take.
TARGETS: dict[str, tuple[int, int]] = {
    "vpdq_text": (8192, 10),
    "notice": (4096, 10),
    "bank_import": (4096, 10),
    "exchange_stopncii": (4096, 10),
    "exchange_ncmec": (4096, 10),
    "exchange_federation": (4096, 10),
    "codescan_notebook": (4096, 10),
    "codescan_files": (4096, 10),
    "media_image": (65536, 20),
    "media_video": (65536, 30),
}


def run(target: str, runs: int, seconds: int) -> str:
    max_len, timeout = TARGETS[target]
    corpus = WORK / target
    corpus.mkdir(parents=True, exist_ok=True)
    (WORK / "artifacts").mkdir(exist_ok=True)
    command = [
        "nice", "-n", "19", sys.executable, str(HERE / f"{target}.py"),
        f"-runs={runs}", f"-max_total_time={seconds}", f"-max_len={max_len}",
        f"-timeout={timeout}", "-rss_limit_mb=2048", "-print_final_stats=1",
        f"-artifact_prefix={WORK / 'artifacts'}/{target}-",
        str(corpus), str(HERE / "corpus" / target),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    log = done.stdout + done.stderr
    (WORK / f"{target}.log").write_text(log)
    stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.MULTILINE))
    executed = int(stat.get("number_of_executed_units", 0))
    rate = int(stat.get("average_exec_per_sec", 0))
    rss = int(stat.get("peak_rss_mb", 0))
    files = len(list(corpus.iterdir())) + len(list((HERE / "corpus" / target).iterdir()))
    crashed = "yes" if re.search(r"==\d+== ERROR: libFuzzer", log) else "none"
    return f"| {target} | {executed:,} | {rate:,} | {files} | {rss} MB | {crashed} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=0, help="per target; 0: no limit")
    parser.add_argument("targets", nargs="*", default=list(TARGETS))
    args = parser.parse_args()
    print("| target | executions | exec/s | corpus files | peak RSS | crashes |")
    print("|---|---:|---:|---:|---:|---|")
    failed = False
    for target in args.targets:
        row = run(target, args.runs, args.seconds)
        failed = failed or row.endswith("| yes |")
        print(row, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
