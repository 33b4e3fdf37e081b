"""Every command that prints records takes the same ``--format`` choices with the same meaning
(issue 16 point 7): found by walking the Typer app, then each run with each choice."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

import fake_stopncii
from bank_helpers import photo
from fake_stopncii import FakeStopNCII
from shieldwall.cli import app, run
from shieldwall.cli._output import FORMAT_HELP, Format
from shieldwall.config import get_settings
from shieldwall.exchange import RemoteSignal
from shieldwall.exchange.contract import pdq_value

FORMATS = [f.value for f in Format]
#: Commands with more choices than the shared ones, and which.
EXTRA = {"scan": {"sarif"}}
#: Commands that print one record: ``json`` is an object, not an array.
SINGLE = {
    "bank create", "bank show", "bank entry", "bank add", "bank import", "sweep",
    "exchange add", "exchange status", "exchange sync", "key create", "jobs depth", "protect",
    "scan", "exchange tdb", "backfill",
}  # fmt: skip
#: Commands whose record list may be empty here (jsonl and csv then print nothing).
MAY_BE_EMPTY = {"bank quarantine"}


def _format_commands() -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(cmd: object, prefix: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            path = [*prefix, name]
            if hasattr(sub, "commands"):
                walk(sub, path)
                continue
            for param in sub.params:
                if "--format" in (getattr(param, "opts", None) or []):
                    found[" ".join(path)] = param

    walk(typer.main.get_command(app), [])
    return found


def test_every_record_command_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for path in _format_commands():
        assert f"| `shieldwall {path}` |" in doc, path


def test_every_format_option_has_the_shared_choices() -> None:
    commands = _format_commands()
    assert len(commands) >= 20
    for path, param in commands.items():
        choices = {str(c) for c in getattr(param, "type_descriptor").choices}  # noqa: B009
        assert choices == set(FORMATS) | EXTRA.get(path, set()), path
        assert "-f" in getattr(param, "opts"), path  # noqa: B009
        assert FORMAT_HELP in (getattr(param, "help") or ""), path  # noqa: B009
    # every one of them is run below with every choice
    assert set(commands) == {
        " ".join(argv[:2]) if argv[0] in _GROUPS else argv[0] for argv in _argvs(Path("x"), "f")
    }


_GROUPS = {"bank", "exchange", "user", "audit", "key", "jobs"}


def _argvs(folder: Path, fmt: str, pairs: tuple[str, ...] = ()) -> list[list[str]]:
    """One run of each record-printing command (names that must be new are per format)."""
    shot = str(folder / "a.jpg")
    return [
        ["hash", shot],
        ["sweep"],
        ["match", shot, "-w", "1"],
        ["scan", "--cmd", "git clone https://github.com/s0md3v/roop && python roop/run.py"],
        ["protect", shot],
        ["bank", "create", f"new-{fmt}", "--kind", "block"],
        ["bank", "list"],
        ["bank", "show", "b"],
        ["bank", "add", "b", "--hash", f"md5:{fmt.encode().hex():0<32}"[:36]],
        ["bank", "withdraw", f"case-{fmt}"],
        ["bank", "import", "b", str(folder / "b.jsonl")],
        ["bank", "entry", "1"],
        ["bank", "quarantine"],
        ["exchange", "add", f"x-{fmt}", "--kind", "stopncii", *pairs],
        ["exchange", "list"],
        ["exchange", "status", "stopncii"],
        ["exchange", "sync", "stopncii"],
        ["exchange", "tdb"],
        ["user", "list"],
        ["audit", "list"],
        ["key", "create", "--scopes", "hash", "--name", f"k-{fmt}"],
        ["key", "list"],
        ["jobs", "depth"],
        ["jobs", "list"],
        ["backfill", str(folder), "-w", "1", "--no-match"],
    ]


@pytest.fixture
def fake(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStopNCII]:
    monkeypatch.setenv("SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS", '["127.0.0.0/8"]')
    monkeypatch.setenv("SHIELDWALL_TDB_URL", "http://127.0.0.1:9")  # nothing decided to send
    get_settings.cache_clear()
    fake = fake_stopncii.serve([(RemoteSignal("ImagePDQ", pdq_value(1)), ("c1",))])
    assert fake.server is not None
    with fake.server:
        yield fake


def _check(path: str, fmt: str, out: str) -> str | None:
    """What is wrong with ``out`` as ``fmt`` (``None``: nothing)."""
    if fmt == "table":
        return None if out.strip() else "printed nothing"
    if not out.strip():
        return None if path in MAY_BE_EMPTY and fmt != "json" else "printed nothing"
    if fmt == "json":
        doc = json.loads(out)
        wanted = dict if path in SINGLE else list
        return None if isinstance(doc, wanted) else f"a {type(doc).__name__}, not a {wanted}"
    if fmt == "jsonl":
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        return None if all(isinstance(x, dict) for x in lines) else "a line is not an object"
    rows = list(csv.reader(io.StringIO(out)))
    if len(rows) < 2 or any(len(r) != len(rows[0]) for r in rows):
        return f"not a header and rows: {rows[:3]}"
    return None


def test_every_record_command_takes_every_format(
    fake: FakeStopNCII, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo(tmp_path, "a.jpg", 3)
    pairs = [x for k, v in fake.settings().items() for x in ("--set", f"{k}={v}")]
    assert run(["exchange", "add", "stopncii", "--kind", "stopncii", *pairs]) == 0
    assert run(["bank", "create", "b", "--kind", "block"]) == 0
    ids = [x for fmt in FORMATS for x in ("-e", f"case-{fmt}")]
    assert run(["bank", "add", "b", str(tmp_path / "a.jpg"), *ids]) == 0
    assert run(["bank", "export", "b", "-o", str(tmp_path / "b.jsonl")]) == 0
    (tmp_path / "pw").write_text("a long enough password 1\n")
    assert (
        run(["user", "create", "u", "--roles", "auditor", "--password-file", str(tmp_path / "pw")])
        == 0
    )
    capsys.readouterr()
    problems = []
    for fmt in FORMATS:
        for argv in _argvs(tmp_path, fmt, tuple(pairs)):
            path = " ".join(argv[:2]) if argv[0] in _GROUPS else argv[0]
            code = run([*argv, "--format", fmt])
            out = capsys.readouterr().out
            if code not in (0, 1, 3):  # 1, 3: matched, warned, some input failed
                problems.append(f"{path} --format {fmt}: exit {code}")
                continue
            wrong = _check(path, fmt, out)
            if wrong:
                problems.append(f"{path} --format {fmt}: {wrong}")
    assert problems == [], "\n".join(problems)
