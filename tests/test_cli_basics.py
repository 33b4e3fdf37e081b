"""The command line as a whole: version, --help everywhere, the demo, README commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shieldwall import __version__
from shieldwall.cli import app, run

ROOT = Path(__file__).resolve().parents[1]


def _command_paths() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(group, [])
    return paths


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"shieldwall {__version__}"


def test_module_entry_point_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "shieldwall", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"shieldwall {__version__}"


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage:" in out


def test_demo_runs_and_shows_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["demo"]) == 0
    out = capsys.readouterr().out
    assert "recompressed-q40.jpg" in out and "match" in out
    assert "not an image" in out  # the bad file is reported, not fatal
    assert "via the flipy variant" in out  # the mirror is found through dihedral variants


def test_readme_commands_exist_in_the_makefile() -> None:
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    commands = re.findall(r"^make (\w+)", readme, flags=re.M)
    assert {"run", "test"} <= set(commands)
    for target in commands:
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_readme_shieldwall_examples_parse(capsys: pytest.CaptureFixture[str]) -> None:
    """Every `shieldwall ...` line in the README names a real command."""
    readme = (ROOT / "README.md").read_text()
    known = {" ".join(p) for p in _command_paths()}
    for line in re.findall(r"^\s*(?:\.venv/bin/)?shieldwall ([a-z][\w -]*)", readme, flags=re.M):
        words = line.split()
        assert any(" ".join(words[:n]) in known for n in (1, 2)), line
