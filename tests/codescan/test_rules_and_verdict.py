"""The rule format (loading, validation errors) and the verdict policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from shieldwall.codescan import Scanner, Verdict, Weight
from shieldwall.codescan.allowlist import load_allow_list
from shieldwall.codescan.model import Finding, Location, Origin
from shieldwall.codescan.rules import load_builtin_rules, load_rules
from shieldwall.codescan.verdict import decide
from shieldwall.errors import RuleError

from .conftest import rule_ids

RULE = """version: 1
rules:
  - id: ACME-1
    family: acme
    title: acme tool
    weight: {weight}
    match:
      {match}
"""


def write_rule(
    tmp_path: Path, weight: str = "strong", match: str = "literal: {values: [acmeswap]}"
) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(RULE.format(weight=weight, match=match))
    return path


def test_builtin_pack_loads_and_covers_every_catalogue_family() -> None:
    rules = load_builtin_rules().rules
    families = {r.family for r in rules}
    assert {
        "deepfacelab",
        "deepfacelive",
        "faceswap",
        "roop",
        "facefusion",
        "simswap",
        "ghost",
        "inswapper",
        "reactor",
        "pypi",
        "dual-use",
    } <= families
    kinds = {r.match.kind() for r in rules}
    assert kinds == {
        "literal",
        "regex",
        "import",
        "call",
        "url",
        "command",
        "package",
        "filename",
        "hash",
        "onnx",
        "layout",
        "concealed",
    }
    assert len({r.id for r in rules}) == len(rules)


@pytest.mark.parametrize(
    ("weight", "match", "expected"),
    [
        ("mighty", "literal: {values: [x]}", "rule ACME-1: weight"),
        ("strong", "regex: {patterns: ['(unclosed']}", "bad regular expression"),
        (
            "strong",
            "literal: {values: [x]}\n      regex: {patterns: [y]}",
            "exactly one match kind",
        ),
        ("strong", "telepathy: {x: 1}", "rule ACME-1: match.telepathy"),
    ],
)
def test_invalid_rules_name_the_file_and_rule(
    tmp_path: Path, weight: str, match: str, expected: str
) -> None:
    path = write_rule(tmp_path, weight, match)
    with pytest.raises(RuleError) as err:
        load_rules([path])
    assert str(path) in err.value.message
    assert expected in err.value.message


def test_provider_rules_add_and_disable_without_code(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\ndisable: [SW-WEAK-DEEPFAKE-WORD]\nrules:\n  - id: ACME-1\n    family: acme\n"
        "    title: acme\n    weight: medium\n    match: {literal: {values: [acmeswap]}}\n"
    )
    scanner = Scanner(load_rules([path]))
    ids = rule_ids(scanner.scan_text("x = 'acmeswap deepfake'", "x.py"))
    assert "ACME-1" in ids
    assert "SW-WEAK-DEEPFAKE-WORD" not in ids


def test_redefining_a_rule_id_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nrules:\n  - id: SW-ROOP-REPO\n    family: x\n    title: x\n"
        "    weight: weak\n    match: {literal: {values: [x]}}\n"
    )
    with pytest.raises(RuleError, match="already defined"):
        load_rules([path])


def test_allow_list_suppresses_but_keeps_findings(tmp_path: Path) -> None:
    work = tmp_path / "ffpp_research"
    work.mkdir()
    (work / "build_benchmark.sh").write_text(
        "git clone https://github.com/deepfakes/faceswap\n"
        "python faceswap.py train -A a -B b -m m -t original\n"
    )
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "version: 1\nallow:\n  - id: ffpp-2026\n    reason: FaceForensics++ benchmark rebuild, "
        "approved by trust & safety\n    paths: ['*ffpp_research/*']\n"
    )
    blocked = Scanner().scan(paths=[work])
    assert blocked.verdict is Verdict.BLOCK
    allowed = Scanner(allow=load_allow_list(allow)).scan(paths=[work])
    assert allowed.verdict is Verdict.ALLOW
    assert allowed.suppressed
    assert all(f.suppressed_by == "ffpp-2026" for f in allowed.suppressed)


def test_allow_list_entry_needs_a_reason_and_a_scope(tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text("version: 1\nallow:\n  - id: everything\n    reason: why not\n")
    with pytest.raises(RuleError, match="needs paths, rules or evidence"):
        load_allow_list(allow)


def finding(
    signal: str, weight: Weight, origin: Origin = Origin.STATIC, kind: str = "capability"
) -> Finding:
    return Finding(f"R-{signal}", "f", weight, kind, signal, "t", Location("x"), "e", (), origin)


@pytest.mark.parametrize(
    ("findings", "verdict"),
    [
        ([], Verdict.ALLOW),
        ([finding(f"w{i}", Weight.WEAK) for i in range(10)], Verdict.ALLOW),
        ([finding("m", Weight.MEDIUM)], Verdict.ALLOW),
        ([finding("m1", Weight.MEDIUM), finding("m2", Weight.MEDIUM)], Verdict.WARN),
        ([finding("s", Weight.STRONG)], Verdict.WARN),
        ([finding("s", Weight.STRONG), finding("s", Weight.STRONG)], Verdict.WARN),
        ([finding("s1", Weight.STRONG), finding("s2", Weight.STRONG)], Verdict.BLOCK),
        (
            [
                finding("t1", Weight.STRONG, kind="threat"),
                finding("t2", Weight.STRONG, kind="threat"),
            ],
            Verdict.WARN,
        ),
        ([finding("s", Weight.STRONG, Origin.RUNTIME)], Verdict.BLOCK),
        ([finding("m", Weight.MEDIUM, Origin.RUNTIME)], Verdict.ALLOW),
    ],
)
def test_verdict_policy(findings: list[Finding], verdict: Verdict) -> None:
    assert decide(findings)[0] is verdict


def test_block_message_names_evidence_policy_and_appeal(scanner: Scanner) -> None:
    report = scanner.scan(
        commands=[
            "python facefusion.py headless-run --processors face_swapper "
            "--face-swapper-model inswapper_128 -s a.jpg -t b.mp4 -o c.mp4"
        ]
    )
    assert report.verdict is Verdict.BLOCK
    message = report.message()
    settings = scanner.settings
    assert settings.codescan_policy_url in message
    assert settings.codescan_appeal_url in message
    assert report.scan_id in message
    assert "SW-FF-CLI" in message
    assert "--cmd 1 line 1" in message
    assert report.exit_code == 3


def acted(
    signal: str, act: str, weight: Weight = Weight.STRONG, kind: str = "capability"
) -> Finding:
    return Finding(f"R-{signal}-{act}", "f", weight, kind, signal, "t", Location("x"), "e",
                   act=act)  # fmt: skip


@pytest.mark.parametrize(
    ("findings", "verdict", "words"),
    [
        # One tool's repository cloned and its modules imported: the same signal, two acts.
        ([acted("roop-source", "obtain"), acted("roop-source", "run")], Verdict.BLOCK,
         "obtained (R-roop-source-obtain) and run (R-roop-source-run)"),
        ([acted("s", "source"), acted("m", "model")], Verdict.BLOCK, "present as its own source"),
        ([acted("cli", "run"), acted("faces", "data")], Verdict.BLOCK, "fed a source face"),
        ([acted("repo", "obtain"), acted("t", "intent", kind="threat")], Verdict.BLOCK, "intent"),
        ([acted("faces", "data")], Verdict.WARN, "no known face-swap tool"),
        ([acted("repo", "obtain"), acted("repo", "obtain")], Verdict.WARN, "one kind"),
        ([acted("a", "intent", kind="threat"), acted("b", "intent", kind="threat")], Verdict.WARN,
         "one kind"),
        # Dual-use pieces never block, however many and of whatever act.
        ([acted(f"w{i}", a, Weight.WEAK) for i, a in enumerate(("obtain", "run", "model"))],
         Verdict.ALLOW, "dual-use"),
        ([acted("m1", "obtain", Weight.MEDIUM), acted("m2", "run", Weight.MEDIUM)], Verdict.WARN,
         "medium"),
    ],
)  # fmt: skip
def test_verdict_reasons_about_acts(findings: list[Finding], verdict: Verdict, words: str) -> None:
    got, _, reason = decide(findings)
    assert got is verdict
    assert words in reason


def test_issue_notebook_clone_import_weights_run_blocks(scanner: Scanner) -> None:
    # The issue's first miss: one tool family cloned, imported, its weights downloaded and run.
    job = (
        "git clone https://github.com/s0md3v/roop\ncd roop\n"
        "wget https://huggingface.co/CountFloyd/deepfake/resolve/main/inswapper_128.onnx\n"
        "python -c 'import roop.core; roop.core.run()'\n"
    )
    report = scanner.scan_text(job, "job.sh")
    assert report.verdict is Verdict.BLOCK, report.message()
    assert "obtained" in report.reason


def test_script_run_inside_a_cloned_tool_is_a_run(scanner: Scanner) -> None:
    text = "git clone https://github.com/visomaster/VisoMaster.git\ncd VisoMaster\npython main.py\n"
    report = scanner.scan_text(text, "setup.sh")
    assert report.verdict is Verdict.BLOCK
    run = next(f for f in report.findings if f.act == "run")
    assert run.rule_id == "SW-VISO-REPO"
    assert run.location.line == 3
    assert "run inside the clone of https://github.com/visomaster/VisoMaster.git" in run.evidence
    # Cloning alone, or running a script elsewhere, is not a run of the tool.
    only = scanner.scan_text(text.replace("cd VisoMaster", "cd /content/other"), "setup.sh")
    assert only.verdict is Verdict.WARN


def test_declared_command_line_is_source_not_run(scanner: Scanner) -> None:
    src = (
        "import argparse\np = argparse.ArgumentParser()\n"
        "p.add_argument('-s', '--source')\np.add_argument('-t', '--target')\n"
        "p.add_argument('--frame-processor', default=['face_swapper'])\n"
        "p.add_argument('--many-faces', action='store_true')\n"
    )
    report = scanner.scan_text(src, "core.py")
    acts = {f.act for f in report.findings if f.weight is Weight.STRONG}
    assert acts == {"source"}
    assert report.verdict is Verdict.WARN
