"""``shieldwall bank ...``: create and curate hash banks."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from shieldwall import banks
from shieldwall.audit import record_read
from shieldwall.banks import BankFormat, BankInfo, BankKind, EntryInfo, NewEntry, Provenance
from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.cli._progress import progress_bar
from shieldwall.cli.hash import expand_inputs
from shieldwall.config import get_settings
from shieldwall.errors import UsageError
from shieldwall.hashing import hash_many
from shieldwall.signals import bankable_types, get_signal_type

__all__ = ["bank_app"]

bank_app = typer.Typer(
    name="bank",
    help="Create and curate hash banks: block, allow (known false positives) and review.",
    no_args_is_help=True,
)
app.add_typer(bank_app)


class Output(StrEnum):
    """How results are shown."""

    table = "table"
    json = "json"


FormatOption = Annotated[Output, typer.Option("--format", "-f", help="Output format.")]


def _bank_json(bank: BankInfo) -> dict[str, object]:
    return {
        "name": bank.name,
        "kind": bank.kind.value,
        "enabled": bank.enabled,
        "thresholds": {
            kind.name: bank.threshold(kind.name, kind.default_threshold)
            for kind in bankable_types()
        },
        "description": bank.description,
        "match_variants": bank.match_variants,
        "source": bank.source,
        "entries": bank.entry_counts,
        "live_signals": bank.live_signals,
        "created_at": bank.created_at.isoformat(),
    }


def _entry_json(entry: EntryInfo) -> dict[str, object]:
    return {
        "entry_id": entry.id,
        "bank": entry.bank,
        "status": entry.status.value,
        "disabled_until": entry.disabled_until.isoformat() if entry.disabled_until else None,
        "signals": [s.type for s in entry.signals if s.variant is None],
        "variants": [s.variant for s in entry.signals if s.variant is not None],
        "external_ids": entry.external_ids,
        "provenance": entry.provenance.value,
        "note": entry.note,
    }


def _print_json(obj: object) -> None:
    typer.echo(json.dumps(obj))


def _show(obj: dict[str, object], fmt: Output) -> None:
    """One record: a JSON object, or ``key: value`` lines."""
    if fmt is Output.json:
        _print_json(obj)
        return
    for key, value in obj.items():
        typer.echo(f"{key}: {value}")


def _parse_thresholds(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep or not number.strip().isdigit():
            raise UsageError(f"--threshold {value!r}: write TYPE=DISTANCE, e.g. pdq=31")
        out[get_signal_type(name).name] = int(number)
    return out


@bank_app.command("create")
def create_command(  # noqa: PLR0917 - a Typer signature
    name: Annotated[str, typer.Argument(help="Bank name: letters, digits, '_', '.', '-'.")],
    kind: Annotated[BankKind, typer.Option("--kind", "-k", help="What a match means.")],
    threshold: Annotated[
        list[str] | None,
        typer.Option("--threshold", "-t", help="TYPE=DISTANCE, e.g. pdq=31 (repeat)."),
    ] = None,
    description: Annotated[str, typer.Option(help="What the bank holds.")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled.")] = False,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants/--no-variants",
            help="Count matches through variants (cuts, rotations, crops; docs/matching.md).",
        ),
    ] = True,
    fmt: FormatOption = Output.table,
) -> None:
    """Create a bank. Thresholds default to each signal type's own (PDQ 31, MD5 exact)."""
    bank = banks.create_bank(
        open_database(),
        name,
        kind,
        thresholds=_parse_thresholds(threshold or []),
        description=description,
        enabled=not disabled,
        match_variants=variants,
    )
    if fmt is Output.json:
        _print_json(_bank_json(bank))
    else:
        typer.echo(f"created {bank.kind.value} bank {bank.name!r}")


@bank_app.command("list")
def list_command(fmt: FormatOption = Output.table) -> None:
    """List the banks with their kind, state and entry counts."""
    found = banks.list_banks(open_database())
    if fmt is Output.json:
        _print_json([_bank_json(b) for b in found])
        return
    table = Table("name", "kind", "enabled", "active entries", "live signals", "thresholds")
    for b in found:
        table.add_row(
            b.name,
            b.kind.value,
            "yes" if b.enabled else "no",
            str(b.entry_counts.get("active", 0)),
            str(b.live_signals),
            ", ".join(f"{k}={v}" for k, v in sorted(b.thresholds.items())) or "defaults",
        )
    Console(width=200).print(table)


@bank_app.command("show")
def show_command(name: str, fmt: FormatOption = Output.table) -> None:
    """Show one bank: settings, thresholds and entry counts by status."""
    _show(_bank_json(banks.get_bank(open_database(), name)), fmt)


@bank_app.command("enable")
def enable_command(name: str) -> None:
    """Enable a bank: its entries match again."""
    banks.set_bank_enabled(open_database(), name, True)
    typer.echo(f"enabled bank {name!r}")


@bank_app.command("disable")
def disable_command(name: str) -> None:
    """Disable a bank: its entries match nothing until it is enabled."""
    banks.set_bank_enabled(open_database(), name, False)
    typer.echo(f"disabled bank {name!r}")


@bank_app.command("delete")
def delete_command(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the deletion.")] = False,
) -> None:
    """Delete a bank and its entries (stored matches are kept). Needs --yes."""
    if not yes:
        raise UsageError(f"deleting bank {name!r} removes all its entries: add --yes to confirm")
    removed = banks.delete_bank(open_database(), name)
    typer.echo(f"deleted bank {name!r} ({removed} live signals removed)")


def _report(outcome: banks.AddOutcome, fmt: Output, what: str) -> None:
    for rejected in outcome.rejected:
        err_console.print(f"[red]rejected[/] {rejected.source}: {rejected.reason}", highlight=False)
    if fmt is Output.json:
        _print_json(
            {
                "created": outcome.created,
                "merged": outcome.merged,
                "rejected": [
                    {"source": r.source, "error": r.code, "message": r.reason}
                    for r in outcome.rejected
                ],
            }
        )
    else:
        typer.echo(
            f"{what}: {len(outcome.created)} new entries, {len(outcome.merged)} merged into "
            f"existing entries, {len(outcome.rejected)} rejected"
        )
    raise typer.Exit(EXIT_SOME_FAILED if outcome.rejected else EXIT_OK)


@bank_app.command("add")
def add_command(  # noqa: PLR0917 - a Typer signature
    bank: Annotated[str, typer.Argument(help="The bank to add to.")],
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Image or video files or directories: each file becomes one entry."),
    ] = None,
    hashes: Annotated[
        list[str] | None,
        typer.Option(
            "--hash",
            help="TYPE:VALUE[:QUALITY] (repeat): the signals of one more entry, already hashed.",
        ),
    ] = None,
    external_id: Annotated[
        list[str] | None,
        typer.Option("--external-id", "-e", help="A case number holding the entries (repeat)."),
    ] = None,
    note: Annotated[str, typer.Option(help="A note kept with each entry.")] = "",
    provenance: Annotated[
        Provenance, typer.Option(help="Who the hashes came from.")
    ] = Provenance.REVIEWER,
    signal: Annotated[
        list[str] | None,
        typer.Option("--signal", "-s", help="Signal types to compute from files (repeat)."),
    ] = None,
    fmt: FormatOption = Output.table,
) -> None:
    """Add images or videos (hashed here: the media is never stored) or hashes to a bank.

    A video is banked by its vpdq frame hashes, every frame by default
    (SHIELDWALL_VIDEO_BANK_SECONDS_PER_HASH), its md5 and its sha256; --hash takes
    "vpdq:<frame lines>" too (the lines separated by newlines, ';' or spaces).

    A signal that is malformed or a PDQ hash below the quality floor is rejected with its
    reason. Adding something already in the bank is harmless: new case numbers are attached to
    the existing entry. Exit codes: 0 all added, 1 some inputs rejected, 2 usage error.
    """
    if not paths and not hashes:
        raise UsageError("give image or video files and/or --hash TYPE:VALUE")
    db = open_database()
    banks.get_bank(db, bank)
    ids = external_id or []
    items: list[NewEntry | banks.Rejected] = []
    if hashes:
        signals = [banks.parse_signal_string(h) for h in hashes]  # bad input: error, no write
        items.append(NewEntry(signals, ids, note, provenance, source="--hash"))
    files = [str(p) for p in expand_inputs(paths or []) if not isinstance(p, tuple)]
    if files:
        names = tuple(signal) if signal else None  # each file's own: photo or video
        settings = get_settings()
        density = settings.video_bank_seconds_per_hash
        with progress_bar("hashing", enabled=len(files) >= 20) as bar:
            task = bar.add_task("hash", total=len(files))
            one = 1 if len(files) == 1 else None  # one file: no worker pool to start
            for result in hash_many(
                files,
                names,
                workers=one,
                seconds_per_hash=density,
                bank_variants=settings.bank_variants,
            ):
                bar.advance(task)
                if result.error is not None:
                    error = result.error
                    items.append(banks.Rejected(result.source, error.message, error.code))
                else:
                    items.append(
                        NewEntry(
                            [*result.signals.values(), *result.bank_variants],
                            ids,
                            note,
                            provenance,
                            source=result.source,
                        )
                    )
    _report(banks.add_entries(db, bank, items), fmt, f"bank {bank!r}")


@bank_app.command("withdraw")
def withdraw_command(
    ids: Annotated[list[str], typer.Argument(help="External ids (case numbers) to withdraw.")],
    bank: Annotated[str | None, typer.Option(help="Only in this bank.")] = None,
    entry: Annotated[
        bool, typer.Option("--entry", help="The ids are bank entry ids, not external ids.")
    ] = False,
    fmt: FormatOption = Output.table,
) -> None:
    """Withdraw cases: an entry's hashes stop matching once no active case holds it.

    All ids are withdrawn, or (if one is unknown) none. Exit codes: 0 done, 1 an id is unknown.
    """
    db = open_database()
    if entry:
        numbers = []
        for value in ids:
            if not value.isdigit():
                raise UsageError(f"entry id {value!r} is not a number")
            numbers.append(int(value))
        for number in numbers:
            banks.get_entry(db, number)  # NotFound before anything changes
        done = [banks.withdraw_entry(db, n) for n in numbers]
        if fmt is Output.json:
            _print_json([_entry_json(e) for e in done])
        else:
            typer.echo(f"withdrew {len(done)} entries")
        return
    outcomes = banks.withdraw_cases(db, ids, bank=bank)
    if fmt is Output.json:
        _print_json(
            [
                {
                    "external_id": o.external_id,
                    "withdrawn_entries": o.withdrawn_entries,
                    "kept_entries": o.kept_entries,
                }
                for o in outcomes
            ]
        )
        return
    for o in outcomes:
        typer.echo(
            f"{o.external_id}: {len(o.withdrawn_entries)} entries withdrawn, "
            f"{len(o.kept_entries)} kept (held by another active case)"
        )


def _open_input(path: str) -> TextIO:
    if path == "-":
        return sys.stdin
    try:
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from exc


@bank_app.command("import")
def import_command(
    bank: str,
    file: Annotated[str, typer.Argument(help="File to read, or - for stdin.")],
    import_format: Annotated[
        BankFormat, typer.Option("--import-format", "-i", help="File format.")
    ] = BankFormat.jsonl,
    provenance: Annotated[
        Provenance, typer.Option(help="Provenance of records that do not name theirs.")
    ] = Provenance.PARTNER,
    fmt: FormatOption = Output.table,
) -> None:
    """Import hashes from JSON lines, CSV, or signal strings (``pdq <hex>`` per line).

    Records are added in transactions of 500: an interrupted import leaves whole entries and
    can be run again (adding twice is harmless). Bad records are reported on stderr with their
    line and the rest goes on. Exit codes: 0 all imported, 1 some rejected, 2 usage error.
    """
    db = open_database()
    banks.get_bank(db, bank)
    stream = _open_input(file)
    try:
        total = None
        if file != "-":
            with open(file, encoding="utf-8") as counting:
                total = sum(1 for _ in counting)
        with progress_bar("importing", enabled=(total or 0) >= 1000) as bar:
            task = bar.add_task("import", total=total)
            records = banks.read_entries(stream, import_format, name=file, provenance=provenance)
            outcome = banks.add_entries(db, bank, records, progress=lambda n: bar.advance(task, n))
    finally:
        if stream is not sys.stdin:
            stream.close()
    _report(outcome, fmt, f"imported into {bank!r}")


@bank_app.command("export")
def export_command(
    bank: str,
    export_format: Annotated[
        BankFormat, typer.Option("--export-format", "-x", help="File format.")
    ] = BankFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")
    ] = None,
    include_withdrawn: Annotated[
        bool, typer.Option(help="Also export withdrawn entries (with their statuses).")
    ] = False,
) -> None:
    """Export a bank's entries (hashes, case numbers, notes) in an importable format."""
    db = open_database()
    entries = banks.export_entries(db, bank, include_withdrawn=include_withdrawn)
    if output is None:
        count = banks.write_entries(entries, sys.stdout, export_format)
    else:
        tmp = output.with_name(output.name + ".partial")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            count = banks.write_entries(entries, out, export_format)
        tmp.replace(output)
    record_read(db, "cli", "bank.read", f"bank:{bank}", {"route": "export", "count": count})
    err_console.print(f"exported {count} records from {bank!r}", highlight=False)


@bank_app.command("entry")
def entry_command(entry_id: int, fmt: FormatOption = Output.table) -> None:
    """Show one bank entry: status, signal types, case numbers, provenance, note."""
    _show(_entry_json(banks.get_entry(open_database(), entry_id)), fmt)


@bank_app.command("disable-entry")
def disable_entry_command(
    entry_id: int,
    until: Annotated[
        datetime | None,
        typer.Option(help="Until when (ISO time, UTC unless given); default until enabled."),
    ] = None,
) -> None:
    """Stop one entry matching, until a time or until enabled again."""
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    banks.disable_entry(open_database(), entry_id, until)
    typer.echo(f"disabled entry {entry_id}" + (f" until {until.isoformat()}" if until else ""))


@bank_app.command("enable-entry")
def enable_entry_command(entry_id: int) -> None:
    """Let a disabled entry match again."""
    banks.enable_entry(open_database(), entry_id)
    typer.echo(f"enabled entry {entry_id}")


@bank_app.command("quarantine")
def quarantine_command(fmt: FormatOption = Output.table) -> None:
    """List bank signals that flood protection quarantined, pending review."""
    from shieldwall.matching import list_quarantined  # noqa: PLC0415 (loaded when used)

    held = list_quarantined(open_database())
    if fmt is Output.json:
        _print_json(
            [
                {
                    "signal_id": q.signal_id,
                    "bank": q.bank,
                    "entry_id": q.entry_id,
                    "signal_type": q.signal_type,
                    "quarantined_at": q.quarantined_at.isoformat(),
                }
                for q in held
            ]
        )
        return
    for q in held:
        typer.echo(f"signal {q.signal_id} ({q.signal_type}) of entry {q.entry_id} in {q.bank}")


@bank_app.command("release")
def release_command(signal_id: int) -> None:
    """Release a quarantined signal after review: it matches again."""
    from shieldwall.matching import release_signal  # noqa: PLC0415 (loaded when used)

    release_signal(open_database(), signal_id)
    typer.echo(f"released signal {signal_id}")
