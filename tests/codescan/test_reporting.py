"""Reporting fit for CI and appeals: stable SARIF fingerprints, a scan id per scan, the appeal
route and the evidence in every format; and the time and byte budget that bounds every scan."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest

from shieldwall.cli import run
from shieldwall.codescan import Scanner, Verdict
from shieldwall.codescan.sarif import to_sarif
from shieldwall.config import Settings

from .conftest import CORPUS
from .test_faces import SCHEMA, official_schema

JOB = (
    "!git clone https://github.com/s0md3v/roop\n"
    "%cd roop\n"
    "!python run.py -s face.jpg -t clip.mp4 -o out.mp4 --frame-processor face_swapper\n"
)


def _prints(report_sarif: dict[str, object]) -> dict[str, str]:
    run_ = report_sarif["runs"][0]  # type: ignore[index]
    return {r["partialFingerprints"]["shieldwall/v1"]: r["ruleId"] for r in run_["results"]}


def test_fingerprints_survive_rescans_and_line_shifts(scanner: Scanner) -> None:
    first = scanner.scan_text(JOB, "job.sh")
    again = scanner.scan_text(JOB, "job.sh")
    shifted = scanner.scan_text("# setup\necho start\n\n\n" + JOB + "echo done\n", "job.sh")
    assert first.verdict is Verdict.BLOCK
    a = _prints(to_sarif(first, scanner.rules))
    assert a == _prints(to_sarif(again, scanner.rules))
    assert a == _prints(to_sarif(shifted, scanner.rules))
    lines = {f.rule_id: f.location.line for f in first.findings}
    moved = {f.rule_id: f.location.line for f in shifted.findings}
    assert any(moved[r] != lines[r] for r in lines)  # the lines did move
    # One fingerprint per result, none shared.
    assert len(a) == len(first.findings)
    # Same evidence, same digest; but every scan has its own id.
    assert first.evidence_digest == shifted.evidence_digest
    assert len({first.scan_id, again.scan_id, shifted.scan_id}) == 3


def test_fingerprints_differ_for_different_evidence(scanner: Scanner) -> None:
    a = _prints(to_sarif(scanner.scan_text(JOB, "job.sh"), scanner.rules))
    other = JOB.replace("s0md3v/roop", "hacksider/Deep-Live-Cam")
    b = _prints(to_sarif(scanner.scan_text(other, "job.sh"), scanner.rules))
    assert set(a) != set(b)


def test_sarif_carries_appeal_evidence_and_scan_id(scanner: Scanner) -> None:
    report = scanner.scan_text(JOB, "job.sh")
    log = to_sarif(report, scanner.rules)
    jsonschema.validate(log, SCHEMA)
    jsonschema.Draft4Validator(official_schema()).validate(log)
    run_ = log["runs"][0]  # type: ignore[index]
    assert run_["automationDetails"]["id"] == f"shieldwall-codescan/{report.scan_id}"
    props = run_["properties"]
    assert props["appeal"]["url"] == scanner.settings.codescan_appeal_url
    assert props["basis"] == [f.rule_id for f in report.basis]
    for result in run_["results"]:
        assert scanner.settings.codescan_appeal_url in result["message"]["text"]
        assert report.scan_id in result["message"]["text"]
        assert result["properties"]["evidence"]
        assert result["properties"]["act"] in ("obtain", "run", "data", "context", "intent")


def test_json_and_text_carry_appeal_and_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    case = str(CORPUS / "partial" / "roop" / "readme_command.sh")
    assert run(["scan", "--format", "json", case]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["appeal"]["scan_id"] == data["scan_id"]
    assert data["basis"] == ["SW-SWAP-FACES-CLI"]
    finding = data["findings"][0]
    assert finding["evidence"] == "python run.py -s face.jpg -t video.mp4 -o out.mp4"
    assert finding["act"] == "data" and finding["fingerprint"]
    assert run(["scan", case]) == 1
    text = capsys.readouterr().out
    assert "appeal at https://" in text and "SW-SWAP-FACES-CLI" in text
    assert "no known face-swap tool" in text


def test_readme_command_is_warned_with_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    # The README's example: a roop-style command (source face, target video, output), no tool.
    assert run(["scan", "--cmd", "python run.py -s face.jpg -t video.mp4 -o out.mp4"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("WARNING:")
    assert "fed a source face and a target (SW-SWAP-FACES-CLI)" in out


def test_time_budget_names_every_input_left_unscanned(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("print('hello')\n")
    spent = Scanner(settings=Settings.load(codescan_max_scan_seconds=0))
    report = spent.scan(paths=[tmp_path / "a.py", tmp_path / "b.py"])
    assert [(Path(e.path).name, e.code) for e in report.errors] == [
        ("a.py", "scan_budget_exceeded"),
        ("b.py", "scan_budget_exceeded"),
    ]
    assert "time budget of 0 s" in report.errors[0].message
    assert report.exit_code == 2  # an incomplete scan never reads as clean


def test_byte_budget_stops_reading_and_keeps_what_was_found(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.mkdir()
    (job / "a_clone.sh").write_text(JOB.replace("!", "").replace("%", ""))
    for i in range(5):
        (job / f"z{i}.py").write_text("x = 1\n" * 200)
    size = (job / "a_clone.sh").stat().st_size
    small = Scanner(settings=Settings.load(codescan_max_scan_bytes=size + 10))
    report = small.scan(paths=[job])
    assert report.verdict is Verdict.BLOCK  # from the first file, read within the budget
    assert len(report.errors) == 2  # the first file over it, then the rest of the folder in one
    assert all(e.code == "scan_budget_exceeded" for e in report.errors)
    assert "4 more file(s) not scanned" in report.errors[1].message


def test_bad_inputs_are_each_named_and_the_scan_goes_on(scanner: Scanner, tmp_path: Path) -> None:
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "tool.py").write_bytes(b"\x00\x01binary\x00" * 50)
    with (tmp_path / "huge.ipynb").open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.txt", "hello")
    data = inner.getvalue()
    for level in range(5):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"level{level}.zip", data)
        data = buf.getvalue()
    (tmp_path / "deep.zip").write_bytes(data)
    (tmp_path / "job.sh").write_text(JOB.replace("!", "").replace("%", ""))
    report = scanner.scan(paths=[tmp_path])
    assert report.verdict is Verdict.BLOCK  # the job's evidence still counts
    by_name = {Path(e.path.split("!")[0]).name: (e.code, e.message) for e in report.errors}
    assert by_name["broken.ipynb"][0] == "corrupt_input"
    assert by_name["tool.py"][0] == "unsupported_input"
    assert by_name["huge.ipynb"][0] == "input_too_large"
    assert by_name["deep.zip"][0] == "input_too_large"
    assert "nested deeper" in by_name["deep.zip"][1]
    assert report.exit_code == 3
