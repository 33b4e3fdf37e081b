"""YARA rule files (optional ``yara`` extra): rules with weights in their ``meta``, run on
decoded text as well as on text as written."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from shieldwall.codescan import Scanner
from shieldwall.codescan.rules import load_rules
from shieldwall.errors import RuleError

pytest.importorskip("yara")

YAR = """
rule ACME_SWAP_GUI : faceswap
{
    meta:
        weight = "strong"
        family = "acme"
        title = "the ACME face-swap GUI"
        signal = "acme-gui"
    strings:
        $a = "acme_swap_gui" nocase
        $b = { 41 43 4D 45 2D 53 57 41 50 }
    condition:
        any of them
}
"""


def test_yara_rules_match_plain_and_decoded_text(tmp_path: Path) -> None:
    rules = tmp_path / "acme.yar"
    rules.write_text(YAR)
    scanner = Scanner(load_rules([rules]))
    plain = scanner.scan_text("import acme_swap_gui\n", "x.py")
    finding = next(f for f in plain.findings if f.rule_id == "ACME_SWAP_GUI")
    assert finding.weight == "strong"
    assert finding.location.line == 1
    hidden = base64.b64encode(b"ACME-SWAP launcher").decode()
    decoded = scanner.scan_text(f"import base64\nexec(base64.b64decode('{hidden}'))\n", "y.py")
    layers = [f.layers for f in decoded.findings if f.rule_id == "ACME_SWAP_GUI"]
    assert ("base64", "exec") in layers


def test_yara_rule_without_weight_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "bad.yar"
    rules.write_text('rule NoWeight { strings: $a = "x" condition: $a }')
    with pytest.raises(RuleError, match=r"bad\.yar: rule NoWeight: meta"):
        load_rules([rules])


def test_invalid_yara_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "broken.yara"
    rules.write_text("rule { oops")
    with pytest.raises(RuleError, match=r"broken\.yara: not valid YARA"):
        load_rules([rules])
