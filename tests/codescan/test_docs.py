"""docs/codescan.md keeps up with the code: every code-scan setting and match kind is described."""

from __future__ import annotations

from pathlib import Path

import pytest

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
