"""Fixtures for the code-scanner tests: one scanner with the built-in rules, and helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.codescan import Report, Scanner

CORPUS = Path(__file__).parent / "corpus"

# The corpus holds other projects' scripts (MobileFaceSwap's image_test.py, ...): data, not tests.
collect_ignore_glob = ["corpus/*"]


@pytest.fixture(scope="session")
def scanner() -> Scanner:
    """A scanner with the built-in rule pack and default limits."""
    return Scanner()


def rule_ids(report: Report) -> set[str]:
    """The ids of the rules that produced (not suppressed) findings."""
    return {f.rule_id for f in report.findings}
