"""``shieldwall exchange ...``: configure hash exchanges (StopNCII, NCMEC) and sync them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.exchange import ExchangeInfo, SyncReport

__all__ = ["exchange_app"]

exchange_app = typer.Typer(
    name="exchange",
    help="Hash exchanges (StopNCII, NCMEC) feeding banks: add, list, sync, status, remove.",
    no_args_is_help=True,
)
app.add_typer(exchange_app)


def _settings(pairs: list[str], file: Path | None) -> dict[str, Any]:
    """``--set key=value`` pairs (a value that reads as JSON is taken as such: numbers, lists)
    over a JSON settings file."""
    out: dict[str, Any] = {}
    if file is not None:
        try:
            loaded = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(f"--settings-file {file}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"--settings-file {file}: must hold a JSON object")
        out.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r}: write KEY=VALUE")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def info_json(info: ExchangeInfo) -> dict[str, object]:
    """The JSON form of a configured exchange (secrets hidden)."""
    return {
        "name": info.name,
        "kind": info.kind,
        "bank": info.bank,
        "enabled": info.enabled,
        "interval_seconds": info.interval_seconds,
        "settings": info.settings,
        "checkpoint": info.checkpoint,
        "added": info.added,
        "withdrawn": info.withdrawn,
        "skipped": info.skipped,
        "skipped_types": info.skipped_types,
        "failed": info.failed,
        "feedback": info.feedback,
        "last_sync_at": info.last_sync_at.isoformat() if info.last_sync_at else None,
        "last_success_at": info.last_success_at.isoformat() if info.last_success_at else None,
        "last_error": info.last_error,
        "backoff_until": info.backoff_until.isoformat() if info.backoff_until else None,
    }


def _line(info: ExchangeInfo) -> str:
    when = info.last_sync_at.isoformat(timespec="seconds") if info.last_sync_at else "never"
    error = f"  error: {info.last_error}" if info.last_error else ""
    return (
        f"{info.name}  {info.kind}  bank {info.bank}  last sync {when}  added {info.added}  "
        f"withdrawn {info.withdrawn}  skipped {info.skipped}  failed {info.failed}{error}"
    )


@exchange_app.command("add")
def add_command(  # noqa: PLR0917 - a Typer signature
    name: Annotated[str, typer.Argument(help="A name for this exchange (e.g. stopncii).")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="The plug-in: stopncii, ncmec.")],
    bank: Annotated[
        str | None,
        typer.Option("--bank", "-b", help="The bank it feeds (default: one of its name)."),
    ] = None,
    pairs: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="A setting KEY=VALUE (repeatable), e.g. fetch_key_file=/run/secrets/fetch.",
        ),
    ] = None,
    settings_file: Annotated[
        Path | None, typer.Option("--settings-file", help="A JSON object of settings.")
    ] = None,
    interval: Annotated[
        int, typer.Option("--interval", help="Seconds between scheduled syncs (60 .. 604800).")
    ] = 3600,
    bank_kind: Annotated[
        str, typer.Option("--bank-kind", help="Kind of the bank created: block or review.")
    ] = "block",
    fmt: FormatOption = Format.table,
) -> None:
    """Configure an exchange; its first sync is queued for the worker (``shieldwall
    worker``), and each sync queues the next. Give keys as files (``*_key_file``)."""
    from shieldwall.exchange import add_exchange  # noqa: PLC0415 (loaded when used)

    info = add_exchange(
        open_database(),
        name,
        kind,
        bank=bank,
        settings=_settings(pairs or [], settings_file),
        interval_seconds=interval,
        bank_kind=bank_kind,
    )
    if fmt is not Format.table:
        emit(info_json(info), fmt)
    else:
        typer.echo(f"exchange {info.name} ({info.kind}) feeds bank {info.bank}; sync queued")


@exchange_app.command("list")
def list_command(fmt: FormatOption = Format.table) -> None:
    """Every exchange with its last sync, counts and last error."""
    from shieldwall.exchange import list_exchanges  # noqa: PLC0415 (loaded when used)

    found = list_exchanges(open_database())
    if fmt is not Format.table:
        emit([info_json(i) for i in found], fmt)
        return
    if not found:
        typer.echo(
            "No exchange is configured. Add one: shieldwall exchange add stopncii --kind stopncii"
        )
    for info in found:
        typer.echo(_line(info))


@exchange_app.command("status")
def status_command(
    name: Annotated[str, typer.Argument(help="The exchange.")],
    fmt: FormatOption = Format.table,
) -> None:
    """One exchange: settings (secrets hidden), checkpoint, counts, feedback, last error."""
    from shieldwall.exchange import get_exchange  # noqa: PLC0415 (loaded when used)

    info = get_exchange(open_database(), name)
    data = info_json(info)
    if fmt is not Format.table:
        emit(data, fmt)
        return
    for key, value in data.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        typer.echo(f"{key}: {shown}")


def _report_json(report: SyncReport) -> dict[str, object]:
    return {
        "exchange": report.exchange,
        "ok": report.ok,
        "pages": report.pages,
        "added": report.added,
        "withdrawn": report.withdrawn,
        "skipped": report.skipped,
        "skipped_types": report.skipped_types,
        "failed": report.failed,
        "record_errors": report.record_errors,
        "error": report.error,
        "backoff_until": report.backoff_until.isoformat() if report.backoff_until else None,
        "caught_up": report.caught_up,
        "feedback_queued": report.feedback_queued,
        "feedback_sent": report.feedback_sent,
        "feedback_error": report.feedback_error,
    }


@exchange_app.command("sync")
def sync_command(
    name: Annotated[str, typer.Argument(help="The exchange.")],
    max_pages: Annotated[
        int | None, typer.Option("--max-pages", min=1, help="Stop after this many pages.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Sync now (in this process, whatever the backoff): fetch from the checkpoint into the
    bank, then send the feedback owed. Exit 1 when a request failed (the pages before it
    stay applied) or a record was malformed."""
    from shieldwall.exchange import sync_exchange  # noqa: PLC0415 (loaded when used)

    report = sync_exchange(open_database(), name, max_pages=max_pages, force=True)
    if fmt is not Format.table:
        emit(_report_json(report), fmt)
    else:
        typer.echo(
            f"{name}: {report.pages} pages, added {report.added}, withdrawn "
            f"{report.withdrawn}, skipped {report.skipped}, failed {report.failed}"
            + (f", feedback sent {report.feedback_sent}" if report.feedback_sent else "")
        )
        for problem in report.record_errors:
            err_console.print(f"  {problem}", highlight=False)
    for stopped in (report.error, report.feedback_error):
        if stopped:
            err_console.print(f"[bold red]error:[/] {stopped}", highlight=False)
    failed = report.error or report.feedback_error or report.failed
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@exchange_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="The exchange.")],
    delete_bank: Annotated[
        bool, typer.Option("--delete-bank", help="Delete its bank too (its hashes stop matching).")
    ] = False,
) -> None:
    """Forget an exchange (checkpoint, counts, pending feedback); its bank stays unless
    ``--delete-bank``."""
    from shieldwall.exchange import remove_exchange  # noqa: PLC0415 (loaded when used)

    remove_exchange(open_database(), name, delete_bank=delete_bank)
    typer.echo(f"exchange {name} removed")


@exchange_app.command("tdb")
def tdb_command(
    queue: Annotated[
        bool,
        typer.Option(
            "--queue", help="Queue the submission for the worker (and its schedule) instead."
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Submit the statements of reasons of decided cases not yet in the EU Transparency
    Database (``SHIELDWALL_TDB_URL``, ``SHIELDWALL_TDB_TOKEN_FILE``). Exit 1 when one was
    refused for good."""
    from shieldwall.exchange import queue_transparency, submit_statements  # noqa: PLC0415

    db = open_database()
    if queue:
        job = queue_transparency(db)
        typer.echo(f"job {job} queued" if job else "a submission is queued already")
        return
    report = submit_statements(db)
    if fmt is not Format.table:
        emit(vars(report), fmt)
    else:
        typer.echo(
            f"submitted {report.submitted}, existing {report.existing}, failed {report.failed}"
        )
        for problem in report.errors:
            err_console.print(f"  {problem}", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if report.failed else EXIT_OK)


@exchange_app.command("federation-key")
def federation_key_command() -> None:
    """Make an Ed25519 signing key for this instance's federation feeds: prints the secret
    seed (put it in the file SHIELDWALL_FEDERATION_SIGNING_KEY_FILE names) and the public key
    to give partners (their exchange's ``public_key``)."""
    import base64  # noqa: PLC0415

    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PrivateKey,
    )

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    typer.echo(f"signing key (secret): {base64.b64encode(seed).decode()}")
    typer.echo(f"public key (for partners): {base64.b64encode(public).decode()}")
