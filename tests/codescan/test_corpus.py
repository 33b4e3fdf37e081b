"""The corpus: every positive is flagged (warn or block) and no lookalike is flagged at all.

``corpus/positive/<family>/<form>`` (plain, renamed, obfuscated, ...) and
``corpus/negative/<case>``; each entry (file or directory) is one scan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shieldwall.codescan import Scanner, Verdict

from .conftest import CORPUS

POSITIVES = sorted(p for fam in (CORPUS / "positive").iterdir() for p in fam.iterdir())
NEGATIVES = sorted((CORPUS / "negative").iterdir())


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


@pytest.mark.parametrize("case", POSITIVES, ids=_id)
def test_positive_is_flagged(scanner: Scanner, case: Path) -> None:
    report = scanner.scan(paths=[case])
    assert not report.errors
    assert report.verdict in (Verdict.WARN, Verdict.BLOCK), report.message()
    family = case.parent.name
    # The evidence names the right tool family (or the generic pipeline it belongs to).
    families = {f.family for f in report.findings if f.weight == "strong"}
    assert families, report.message()
    assert family in families or families & {"inswapper", "roop", "pypi", "deepfacelive"}


@pytest.mark.parametrize("case", NEGATIVES, ids=_id)
def test_lookalike_is_allowed(scanner: Scanner, case: Path) -> None:
    report = scanner.scan(paths=[case])
    assert not report.errors
    assert report.verdict is Verdict.ALLOW, report.message()


def test_every_family_has_plain_and_obfuscated_forms() -> None:
    for family in (CORPUS / "positive").iterdir():
        forms = {p.name.split(".")[0] for p in family.iterdir()}
        assert "obfuscated" in forms, family.name
        assert forms - {"obfuscated"}, family.name


def test_one_scanner_serves_threads(scanner: Scanner) -> None:
    # The runtime guard and a service share one scanner across threads.
    cases = POSITIVES[:8] + NEGATIVES[:8]
    expected = [scanner.scan(paths=[c]).verdict for c in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda c: scanner.scan(paths=[c]).verdict, cases * 3))
    assert got == expected * 3
