"""The corpus: every positive job is blocked, every partial piece warned, and no lookalike is
flagged at all.

``corpus/positive/<family>/<form>`` (whole jobs: plain, renamed, obfuscated, source trees, ...),
``corpus/partial/<family>/<piece>`` (one kind of evidence alone: a lone command or requirement),
``corpus/negative/<case>``, and the generated model-file cases of :mod:`.generated`; each entry
(file or directory) is one scan.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shieldwall.codescan import Scanner, Verdict

from .conftest import CORPUS
from .generated import _BUILDERS, Case, build

POSITIVES = sorted(p for fam in (CORPUS / "positive").iterdir() for p in fam.iterdir())
PARTIALS = sorted(p for fam in (CORPUS / "partial").iterdir() for p in fam.iterdir())
NEGATIVES = sorted((CORPUS / "negative").iterdir())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    return build(tmp_path_factory.mktemp("generated"))


def _id(path: Path) -> str:
    return str(path.relative_to(CORPUS))


@pytest.mark.parametrize("case", POSITIVES, ids=_id)
def test_positive_job_is_blocked(scanner: Scanner, case: Path) -> None:
    report = scanner.scan(paths=[case])
    assert not report.errors
    assert report.verdict is Verdict.BLOCK, report.message()
    # The reason names the rules it rests on, and they lead the evidence.
    assert report.basis
    assert all(f.rule_id in report.reason for f in report.basis)
    family = case.parent.name
    # The evidence names the right tool family (or the generic pipeline it belongs to).
    families = {f.family for f in report.findings if f.weight == "strong"}
    assert families, report.message()
    assert family in families or families & {"inswapper", "roop", "pypi", "deepfacelive"}


@pytest.mark.parametrize("case", PARTIALS, ids=_id)
def test_partial_piece_is_warned_not_blocked(scanner: Scanner, case: Path) -> None:
    report = scanner.scan(paths=[case])
    assert not report.errors
    assert report.verdict is Verdict.WARN, report.message()
    assert "one kind of strong evidence only" in report.reason


@pytest.mark.parametrize("index", range(len(_BUILDERS)), ids=[b[2].__name__ for b in _BUILDERS])
def test_generated_model_case(scanner: Scanner, generated: list[Case], index: int) -> None:
    case = generated[index]
    report = scanner.scan(paths=[case.path])
    assert not report.errors, report.errors
    assert report.verdict.value == case.expected, report.message()
    if case.expected == "block":
        assert any(f.act == "model" for f in report.basis), report.reason


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
