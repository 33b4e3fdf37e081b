"""Code-scanner benchmark: accuracy on the corpus and speed, printed as a markdown section.

Run: ``.venv/bin/python bench/codescan_accuracy.py``

Accuracy: every case in ``tests/codescan/corpus`` (``positive/<family>/<form>`` and
``negative/<case>``) is scanned alone. "Flagged" means a ``warn`` or ``block`` verdict;
precision and recall are given for flagging and for blocking. The reference it is compared
with is the enforcement style the issue describes: a list of tool names matched as plain
substrings (what split strings defeat, and what flagged ordinary users).

Speed, on one core: notebooks per second over the corpus notebooks, and the time to scan a
1 MB notebook of the usual make-up (code cells with logs and plot images in their outputs), and
a 1 MB notebook that is code only (the worst case: every byte goes through the Python parser).
"""

from __future__ import annotations

import base64
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "codescan" / "corpus"
sys.path.insert(0, str(ROOT / "src"))

from shieldwall.codescan import Scanner, Verdict  # noqa: E402 - after the path set-up

# A string-list scanner like the one the issue describes, as the reference.
NAIVE_LIST = [
    "deepfacelab",
    "deepfacelive",
    "faceswap",
    "roop",
    "facefusion",
    "simswap",
    "sber-swap",
    "inswapper",
    "reactor",
    "deepfake",
]


def cases() -> list[tuple[Path, bool]]:
    """(path, is_positive) for every corpus case."""
    pos = sorted(p for fam in (CORPUS / "positive").iterdir() for p in fam.iterdir())
    neg = sorted((CORPUS / "negative").iterdir())
    return [(p, True) for p in pos] + [(p, False) for p in neg]


def raw_text(path: Path) -> str:
    """All bytes of a case as text (the string-list scanner's view)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return "\n".join(f.read_bytes().decode("utf-8", "replace") + " " + str(f) for f in files)


def naive_flags(path: Path) -> bool:
    """The reference: any listed name appears anywhere, as a substring."""
    text = raw_text(path).lower()
    return any(name in text for name in NAIVE_LIST)


def rates(results: list[tuple[bool, bool]]) -> tuple[float, float, int, int]:
    """Precision, recall, false positives, false negatives of (flagged, positive) pairs."""
    tp = sum(1 for f, p in results if f and p)
    fp = sum(1 for f, p in results if f and not p)
    fn = sum(1 for f, p in results if not f and p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, fp, fn


def notebook_json(cells: list[dict[str, object]]) -> str:
    """A minimal nbformat-4 notebook."""
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    return json.dumps(nb, indent=1)


def typical_notebook(size: int) -> str:
    """About ``size`` bytes: training code, logs and a plot image per cell (fixed seed)."""
    rng = random.Random(6)
    code = (ROOT / "src" / "shieldwall" / "codescan" / "verdict.py").read_text()[:3000]
    cells: list[dict[str, object]] = []
    while len(notebook_json(cells)) < size:
        image = base64.b64encode(rng.randbytes(24_000)).decode()
        log = "".join(f"epoch {i} loss {rng.random():.4f}\n" for i in range(60))
        cells.append(
            {
                "cell_type": "code",
                "id": f"c{len(cells)}",
                "metadata": {},
                "execution_count": 1,
                "source": code + "\n!pip install -q ultralytics\n%cd /content",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": log},
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": image, "text/plain": "<Figure size 640x480>"},
                    },
                ],
            }
        )
    return notebook_json(cells)


def code_only_notebook(size: int) -> str:
    """About ``size`` bytes of Python source in code cells, no outputs."""
    code = (ROOT / "src" / "shieldwall" / "codescan" / "deobfuscate.py").read_text()
    cells: list[dict[str, object]] = []
    while len(notebook_json(cells)) < size:
        cells.append(
            {
                "cell_type": "code",
                "id": f"c{len(cells)}",
                "metadata": {},
                "execution_count": 1,
                "source": code,
                "outputs": [],
            }
        )
    return notebook_json(cells)


def time_ms(scanner: Scanner, text: str, repeats: int = 7) -> float:
    """Median wall time of scanning ``text`` as a notebook, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scanner.scan_text(text, "bench.ipynb")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Print the markdown section."""
    scanner = Scanner()
    flagged: list[tuple[bool, bool]] = []
    blocked: list[tuple[bool, bool]] = []
    naive: list[tuple[bool, bool]] = []
    misses: list[str] = []
    false_alarms: list[str] = []
    for path, positive in cases():
        report = scanner.scan(paths=[path])
        is_flagged = report.verdict is not Verdict.ALLOW
        flagged.append((is_flagged, positive))
        blocked.append((report.verdict is Verdict.BLOCK, positive))
        naive.append((naive_flags(path), positive))
        name = str(path.relative_to(CORPUS))
        if positive and not is_flagged:
            misses.append(name)
        if not positive and is_flagged:
            false_alarms.append(f"{name} ({report.verdict.value})")
    npos = sum(1 for _, p in flagged if p)
    nneg = len(flagged) - npos
    print("## Code scanner (`bench/codescan_accuracy.py`)\n")
    families = len(list((CORPUS / "positive").iterdir()))
    print(
        f"Corpus: {npos} positive cases (plain, renamed, obfuscated; {families} tool families) "
        f"and {nneg} lookalikes.\n"
    )
    print("| scanner | precision | recall | lookalikes flagged | positives missed |")
    print("|---|---|---|---|---|")
    for label, rows in (
        ("Shieldwall, flagged (warn or block)", flagged),
        ("Shieldwall, blocked", blocked),
        ("reference: tool-name substring list", naive),
    ):
        p, r, fp, fn = rates(rows)
        print(f"| {label} | {p:.2f} | {r:.2f} | {fp} | {fn} |")
    print()
    if misses or false_alarms:
        missed = ", ".join(misses) or "none"
        print(f"Missed: {missed}. False alarms: {', '.join(false_alarms) or 'none'}.\n")

    notebooks = [p for p, _ in cases() if p.suffix == ".ipynb"]
    texts = [(p.name, p.read_text()) for p in notebooks]
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for name, text in texts:
            scanner.scan_text(text, name)
    per_s = rounds * len(texts) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(rounds):
        for path in notebooks:
            naive_flags(path)
    naive_per_s = rounds * len(texts) / (time.perf_counter() - start)
    typical = typical_notebook(1_000_000)
    code_only = code_only_notebook(1_000_000)
    t_typical = time_ms(scanner, typical)
    t_code = time_ms(scanner, code_only, repeats=3)
    print("| speed (one core) | Shieldwall | reference | ratio |")
    print("|---|---|---|---|")
    print(
        f"| corpus notebooks per second | {per_s:.0f} | {naive_per_s:.0f} | "
        f"{naive_per_s / per_s:.0f}x slower |"
    )
    print(
        f"| 1 MB notebook, usual make-up ({len(typical) / 1e6:.2f} MB: code, logs, images) | "
        f"{t_typical:.0f} ms | | target < 200 ms |"
    )
    size = len(code_only) / 1e6
    print(f"| 1 MB notebook, code only ({size:.2f} MB of Python) | {t_code:.0f} ms | | |")


if __name__ == "__main__":
    main()
