"""Code-scanner benchmark: per-family recall of blocked jobs, lookalikes, and speed; writes its
section of docs/benchmarks.md.

Run: ``.venv/bin/python bench/codescan_accuracy.py``

Accuracy: every case is scanned alone. ``tests/codescan/corpus/positive/<family>/<case>`` are
whole face-swap jobs (notebooks, scripts, command lines, requirements, source trees, workflow
JSON) and must be **blocked**; the generated cases of ``tests/codescan/generated.py`` add model
files (ONNX graphs, checkpoints by name and by structure) beside a job's few lines, built in a
temporary folder, never downloaded; ``partial/<family>/<piece>`` are single pieces (a lone
command or requirement) that must be **warned**; ``negative/<case>`` are legitimate face
projects (recognition and attendance, restoration, deepfake-detection training,
FaceForensics-style dataset tools, face blurring, animation) that must be **allowed**. The
reference is the enforcement style the issue describes: a list of tool names matched as plain
substrings.

Speed, on one core: notebooks per second over the corpus notebooks, and the time to scan a
1 MB notebook of the usual make-up and a 1 MB notebook that is code only.
"""

from __future__ import annotations

import base64
import json
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "codescan" / "corpus"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import pin_to_one_core, write_section  # noqa: E402
from codescan.generated import build  # noqa: E402
from shieldwall.codescan import Scanner  # noqa: E402 - after the path set-up

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
    "facedancer",
    "mobilefaceswap",
    "blendface",
    "diffswap",
    "visomaster",
    "deepfake",
]


def cases(generated_root: Path) -> list[tuple[str, str, Path, str]]:
    """(family, name, path, expected verdict) for every case."""
    out: list[tuple[str, str, Path, str]] = []
    for kind, expected in (("positive", "block"), ("partial", "warn")):
        for fam in sorted((CORPUS / kind).iterdir()):
            for p in sorted(fam.iterdir()):
                out.append((fam.name, f"{kind}/{fam.name}/{p.name}", p, expected))
    for c in build(generated_root):
        family = "negative" if c.expected == "allow" else c.family
        out.append((family, c.name, c.path, c.expected))
    for p in sorted((CORPUS / "negative").iterdir()):
        out.append(("negative", f"negative/{p.name}", p, "allow"))
    return out


def form(path: Path) -> str:
    """What kind of input a case is."""
    if path.is_dir():
        files = [f for f in path.rglob("*") if f.is_file()]
        if any(f.suffix in (".onnx", ".pth", ".h5", ".pdparams", ".dat") for f in files):
            return "model files"
        return "source tree"
    name = path.name.lower()
    if name.endswith(".ipynb"):
        return "notebook"
    if name.endswith(".json"):
        return "workflow JSON"
    if name.startswith("requirements"):
        return "requirements"
    if name.endswith((".sh", ".bat")) or name.startswith("dockerfile"):
        return "commands"
    return "script"


def raw_text(path: Path) -> str:
    """All bytes of a case as text (the string-list scanner's view)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return "\n".join(f.read_bytes().decode("utf-8", "replace") + " " + str(f) for f in files)


def naive_flags(path: Path) -> bool:
    """The reference: any listed name appears anywhere, as a substring."""
    text = raw_text(path).lower()
    return any(name in text for name in NAIVE_LIST)


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
    """Measure, print and write the markdown section."""
    pinned = pin_to_one_core()
    scanner = Scanner()
    per_family: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    forms: dict[str, set[str]] = defaultdict(set)
    naive_hits: dict[str, int] = defaultdict(int)
    wrong: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        every = cases(Path(tmp))
        for family, name, path, expected in every:
            report = scanner.scan(paths=[path])
            key = family if expected != "warn" else f"{family} (pieces)"
            row = per_family[key]
            row["cases"] += 1
            row[report.verdict.value] += 1
            forms[key].add(form(path))
            naive_hits[key] += naive_flags(path)
            if report.verdict.value != expected or report.errors:
                wrong.append(f"{name}: {report.verdict.value}, expected {expected}")
    lines = ["## Code scanner (`bench/codescan_accuracy.py`)", ""]
    jobs = {k: v for k, v in per_family.items() if k != "negative" and "(pieces)" not in k}
    njobs = sum(v["cases"] for v in jobs.values())
    lines += [
        f"{njobs} face-swap jobs in {len(jobs)} tool families (must be blocked), "
        f"{sum(v['cases'] for k, v in per_family.items() if '(pieces)' in k)} single pieces "
        f"(must be warned), {per_family['negative']['cases']} legitimate face projects "
        "(must be allowed). The reference flags a case when any tool name appears in it.",
        "",
        "| family | cases | forms | blocked | warned | allowed | recall (blocked) | "
        "reference flags |",
        "|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(jobs) + sorted(k for k in per_family if "(pieces)" in k) + ["negative"]
    for key in order:
        row = per_family[key]
        n = row["cases"]
        recall = f"{row['block'] / n:.0%}" if key in jobs else "-"
        label = "legitimate projects" if key == "negative" else key
        lines.append(
            f"| {label} | {n} | {', '.join(sorted(forms[key]))} | {row['block']} | "
            f"{row['warn']} | {row['allow']} | {recall} | {naive_hits[key]}/{n} |"
        )
    blocked = sum(v["block"] for v in jobs.values())
    lines += [
        "",
        f"Blocked jobs: {blocked}/{njobs} ({blocked / njobs:.1%}); lowest family recall "
        f"{min(v['block'] / v['cases'] for v in jobs.values()):.0%}. Legitimate projects "
        f"blocked: {per_family['negative']['block']}, warned: {per_family['negative']['warn']}. "
        f"Not as expected: {'; '.join(wrong) or 'none'}.",
        "",
    ]

    notebooks = sorted(CORPUS.rglob("*.ipynb"))
    texts = [(p.name, p.read_text()) for p in notebooks]
    rounds = 10
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
    lines += [
        f"| speed (one core, {pinned}) | Shieldwall | reference | ratio |",
        "|---|---|---|---|",
        f"| corpus notebooks per second ({len(texts)} notebooks) | {per_s:.0f} | "
        f"{naive_per_s:.0f} | {naive_per_s / per_s:.0f}x slower |",
        f"| 1 MB notebook, usual make-up ({len(typical) / 1e6:.2f} MB: code, logs, images) | "
        f"{t_typical:.0f} ms | | target < 200 ms |",
        f"| 1 MB notebook, code only ({len(code_only) / 1e6:.2f} MB of Python) | {t_code:.0f} ms "
        "| | |",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("codescan_accuracy", body, "python bench/codescan_accuracy.py")


if __name__ == "__main__":
    main()
