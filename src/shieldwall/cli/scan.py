"""``shieldwall scan``: scan notebooks, code, archives, model files and command lines for
face-swap deepfake tooling."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shieldwall.cli._app import app, fail
from shieldwall.cli._output import FORMAT_HELP, Format, write_records

__all__ = ["ScanFormat", "scan"]

#: The csv columns of a finding (``Finding.to_dict`` and its fingerprint).
_FINDING_COLUMNS = (
    "rule",
    "family",
    "weight",
    "kind",
    "signal",
    "title",
    "file",
    "cell",
    "line",
    "evidence",
    "decoded_by",
    "origin",
    "act",
    "suppressed_by",
    "fingerprint",
)


class ScanFormat(StrEnum):
    """The shared formats (``shieldwall.cli._output.Format``: table, json, jsonl, csv) and
    SARIF 2.1.0 for code-scanning tools. A scan's records are its findings: ``json`` is the
    whole report (verdict, reason, findings, errors), ``jsonl`` and ``csv`` the findings."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    sarif = "sarif"


@app.command()
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files, directories, notebooks, zip archives or model files to scan."),
    ] = None,
    cmd: Annotated[
        list[str] | None, typer.Option("--cmd", help="A command line to scan (repeatable).")
    ] = None,
    output_format: Annotated[
        ScanFormat,
        typer.Option(
            "--format",
            "-f",
            help=f"{FORMAT_HELP} A scan's records are its findings (json: the whole report); "
            "or sarif (SARIF 2.1.0).",
            case_sensitive=False,
        ),
    ] = ScanFormat.table,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="An extra rule file (YAML; repeatable).")
    ] = None,
    allow: Annotated[
        Path | None, typer.Option("--allow", help="An allow-list file (YAML).")
    ] = None,
) -> None:
    """Scan for face-swap deepfake tooling.

    Exit codes: 0 allow, 1 warn, 3 block, 2 error (bad arguments, or an input that could not
    be scanned and nothing was blocked).
    """
    # Imported here: the scanner's parsers (nbformat, onnx, YAML) are not needed by the other
    # commands, which should start quickly.
    from shieldwall.codescan.sarif import to_sarif  # noqa: PLC0415
    from shieldwall.codescan.scanner import Scanner  # noqa: PLC0415

    if not paths and not cmd:
        fail("give at least one PATH or --cmd")
    scanner = Scanner.from_files(rules or [], allow)
    report = scanner.scan(paths=paths or [], commands=cmd or [])
    if output_format is ScanFormat.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif output_format in (ScanFormat.jsonl, ScanFormat.csv):
        findings = report.to_dict()["findings"]
        assert isinstance(findings, list)
        write_records(findings, Format(output_format.value), columns=_FINDING_COLUMNS)
    elif output_format is ScanFormat.sarif:
        typer.echo(json.dumps(to_sarif(report, scanner.rules), indent=2, ensure_ascii=False))
    else:
        typer.echo(report.message())
        for note in report.notes:
            typer.echo(f"note: {note}")
        for error in report.errors:
            typer.echo(f"error: {error.message}", err=True)
    raise typer.Exit(report.exit_code)
