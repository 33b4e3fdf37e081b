"""docs/codescan.md keeps up with the code: every code-scan setting and match kind is described."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shieldwall.codescan import Scanner
from shieldwall.codescan.rules import MatchSpec
from shieldwall.config import Settings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "codescan.md").read_text()


@pytest.mark.parametrize("name", [n for n in Settings.model_fields if n.startswith("codescan_")])
def test_every_codescan_setting_is_documented(name: str) -> None:
    assert name.upper() in DOC
    assert Settings.model_fields[name].description


@pytest.mark.parametrize("kind", [f.alias or n for n, f in MatchSpec.model_fields.items()])
def test_every_match_kind_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in DOC


def test_readme_scan_example_gives_the_verdict_it_shows() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    command = re.search(r'shieldwall scan --cmd "([^"]+)"', readme)
    assert command is not None
    shown = re.search(r"^(ALLOWED|WARNING|BLOCKED):", readme[command.end() :], re.M)
    assert shown is not None
    report = Scanner().scan(commands=[command.group(1)])
    verdict = {"ALLOWED": "allow", "WARNING": "warn", "BLOCKED": "block"}[shown.group(1)]
    assert report.verdict.value == verdict
    assert report.message().split(" ", 1)[0] == shown.group(1) + ":"
    assert all(f.rule_id in readme for f in report.findings if f.weight == "strong")
