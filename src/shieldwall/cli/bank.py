"""``shieldwall bank ...``: create and curate hash banks."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from shieldwall import banks
from shieldwall.banks import BankFormat, BankInfo, BankKind, EntryInfo, NewEntry, Provenance
from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app, err_console
from shieldwall.cli._db import cli_actor, open_database
from shieldwall.cli._output import Format, FormatOption, emit, show_fields
from shieldwall.cli._progress import progress_bar
from shieldwall.cli.hash import expand_inputs
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.hashing import BatchItem

__all__ = ["bank_app"]

bank_app = typer.Typer(
    name="bank",
    help="Create and curate hash banks: block, allow (known false positives) and review.",
    no_args_is_help=True,
)
app.add_typer(bank_app)


def _bank_json(bank: BankInfo) -> dict[str, object]:
    from shieldwall.signals import bankable_types  # noqa: PLC0415 (lazy: cli/__init__.py)

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
        "local_features": bank.local_features,
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


def _show(obj: dict[str, object], fmt: Format) -> None:
    """One record: ``key: value`` lines, or the machine format."""
    if fmt is Format.table:
        show_fields(obj)
    else:
        emit(obj, fmt)


def _parse_thresholds(values: list[str]) -> dict[str, int]:
    from shieldwall.signals import get_signal_type  # noqa: PLC0415

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
    local_features: Annotated[
        bool,
        typer.Option(
            "--local-features/--no-local-features",
            help="Also describe photos banked from files by local features (ORB keypoints), "
            "for copies no hash reaches: ~25 kB and ~30 ms a photo (docs/matching.md).",
        ),
    ] = False,
    fmt: FormatOption = Format.table,
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
        local_features=local_features,
        by=cli_actor(),
    )
    if fmt is not Format.table:
        emit(_bank_json(bank), fmt)
    else:
        typer.echo(f"created {bank.kind.value} bank {bank.name!r}")


@bank_app.command("list")
def list_command(fmt: FormatOption = Format.table) -> None:
    """List the banks with their kind, state and entry counts."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    found = banks.list_banks(open_database())
    if fmt is not Format.table:
        emit([_bank_json(b) for b in found], fmt)
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
def show_command(name: str, fmt: FormatOption = Format.table) -> None:
    """Show one bank: settings, thresholds and entry counts by status."""
    _show(_bank_json(banks.get_bank(open_database(), name)), fmt)


@bank_app.command("enable")
def enable_command(name: str) -> None:
    """Enable a bank: its entries match again."""
    banks.set_bank_enabled(open_database(), name, True, by=cli_actor())
    typer.echo(f"enabled bank {name!r}")


@bank_app.command("disable")
def disable_command(name: str) -> None:
    """Disable a bank: its entries match nothing until it is enabled."""
    banks.set_bank_enabled(open_database(), name, False, by=cli_actor())
    typer.echo(f"disabled bank {name!r}")


@bank_app.command("delete")
def delete_command(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm the deletion.")] = False,
) -> None:
    """Delete a bank and its entries (stored matches are kept). Needs --yes."""
    if not yes:
        raise UsageError(f"deleting bank {name!r} removes all its entries: add --yes to confirm")
    removed = banks.delete_bank(open_database(), name, by=cli_actor())
    typer.echo(f"deleted bank {name!r} ({removed} live signals removed)")


def _report(outcome: banks.AddOutcome, fmt: Format, what: str) -> None:
    for rejected in outcome.rejected:
        err_console.print(f"[red]rejected[/] {rejected.source}: {rejected.reason}", highlight=False)
    if fmt is not Format.table:
        emit(
            {
                "created": outcome.created,
                "merged": outcome.merged,
                "rejected": [
                    {"source": r.source, "error": r.code, "message": r.reason}
                    for r in outcome.rejected
                ],
            },
            fmt,
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
        typer.Argument(
            help="Image or video files or directories: each file becomes one entry; - reads "
            "one from stdin."
        ),
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
    fmt: FormatOption = Format.table,
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
    extra = banks.signals_to_bank(banks.get_bank(db, bank))
    ids = external_id or []
    items: list[NewEntry | banks.Rejected] = []
    if hashes:
        signals = [banks.parse_signal_string(h) for h in hashes]  # bad input: error, no write
        items.append(NewEntry(signals, ids, note, provenance, source="--hash"))
    if (paths or []).count("-") > 1:
        raise UsageError("stdin (-) can be given only once")
    with tempfile.TemporaryDirectory(prefix="shieldwall-stdin-") as stdin_folder:
        # "-": the photo or video on stdin, spooled to a file there (hashed like any other)
        files = list(expand_inputs(paths or [], Path(stdin_folder)))
        _hash_into(items, files, signal, ids, note, provenance, extra)
    _report(banks.add_entries(db, bank, items, by=cli_actor()), fmt, f"bank {bank!r}")


def _hash_into(  # noqa: PLR0917 - the add command's options, passed on
    items: list[NewEntry | banks.Rejected],
    files: list[BatchItem],
    signal: list[str] | None,
    ids: list[str],
    note: str,
    provenance: Provenance,
    extra: tuple[str, ...],
) -> None:
    """Hash ``files`` (bank-side variants and the bank's extra signal types included) into
    new entries, or rejections with their reason, appended to ``items``."""
    from shieldwall.config import get_settings  # noqa: PLC0415
    from shieldwall.hashing import hash_many  # noqa: PLC0415

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
                extra_signals=extra,
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


@bank_app.command("withdraw")
def withdraw_command(
    ids: Annotated[list[str], typer.Argument(help="External ids (case numbers) to withdraw.")],
    bank: Annotated[str | None, typer.Option(help="Only in this bank.")] = None,
    entry: Annotated[
        bool, typer.Option("--entry", help="The ids are bank entry ids, not external ids.")
    ] = False,
    fmt: FormatOption = Format.table,
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
        done = [banks.withdraw_entry(db, n, by=cli_actor()) for n in numbers]
        if fmt is not Format.table:
            emit([_entry_json(e) for e in done], fmt)
        else:
            typer.echo(f"withdrew {len(done)} entries")
        return
    outcomes = banks.withdraw_cases(db, ids, bank=bank, by=cli_actor())
    if fmt is not Format.table:
        emit(
            [
                {
                    "external_id": o.external_id,
                    "withdrawn_entries": o.withdrawn_entries,
                    "kept_entries": o.kept_entries,
                }
                for o in outcomes
            ],
            fmt,
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
    fmt: FormatOption = Format.table,
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
            outcome = banks.add_entries(
                db,
                bank,
                records,
                progress=lambda n: bar.advance(task, n),
                by=cli_actor(),
                action="bank.import",
            )
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
    from shieldwall.audit import record_read  # noqa: PLC0415

    db = open_database()
    entries = banks.export_entries(db, bank, include_withdrawn=include_withdrawn)
    if output is None:
        count = banks.write_entries(entries, sys.stdout, export_format)
    else:
        tmp = output.with_name(output.name + ".partial")
        with tmp.open("w", encoding="utf-8", newline="") as out:
            count = banks.write_entries(entries, out, export_format)
        tmp.replace(output)
    record_read(db, cli_actor(), "bank.read", f"bank:{bank}", {"route": "export", "count": count})
    err_console.print(f"exported {count} records from {bank!r}", highlight=False)


@bank_app.command("entry")
def entry_command(entry_id: int, fmt: FormatOption = Format.table) -> None:
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
    banks.disable_entry(open_database(), entry_id, until, by=cli_actor())
    typer.echo(f"disabled entry {entry_id}" + (f" until {until.isoformat()}" if until else ""))


@bank_app.command("enable-entry")
def enable_entry_command(entry_id: int) -> None:
    """Let a disabled entry match again."""
    banks.enable_entry(open_database(), entry_id, by=cli_actor())
    typer.echo(f"enabled entry {entry_id}")


@bank_app.command("quarantine")
def quarantine_command(fmt: FormatOption = Format.table) -> None:
    """List bank signals that flood protection quarantined, pending review."""
    from shieldwall.matching import list_quarantined  # noqa: PLC0415 (loaded when used)

    held = list_quarantined(open_database())
    if fmt is not Format.table:
        emit(
            [
                {
                    "signal_id": q.signal_id,
                    "bank": q.bank,
                    "entry_id": q.entry_id,
                    "signal_type": q.signal_type,
                    "quarantined_at": q.quarantined_at.isoformat(),
                }
                for q in held
            ],
            fmt,
        )
        return
    if not held:
        typer.echo("no signal is quarantined")
    for q in held:
        typer.echo(f"signal {q.signal_id} ({q.signal_type}) of entry {q.entry_id} in {q.bank}")


@bank_app.command("release")
def release_command(signal_id: int) -> None:
    """Release a quarantined signal after review: it matches again."""
    from shieldwall.matching import release_signal  # noqa: PLC0415 (loaded when used)

    release_signal(open_database(), signal_id, by=cli_actor())
    typer.echo(f"released signal {signal_id}")
