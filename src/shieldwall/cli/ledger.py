"""``shieldwall ledger add`` and ``shieldwall sweep``: record hosted content, find known copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.cli._progress import progress_bar
from shieldwall.cli.hash import expand_inputs
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.signals.base import Signal

__all__ = ["ledger_app"]

ledger_app = typer.Typer(
    name="ledger",
    help="The ledger of content the platform hosts (content ids and hashes, never media).",
    no_args_is_help=True,
)
app.add_typer(ledger_app)


@ledger_app.command("add")
def ledger_add_command(
    paths: Annotated[
        list[str],
        typer.Argument(help="Hosted image or video files, or directories (walked recursively)."),
    ],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=0, help="Hashing processes.")
    ] = None,
) -> None:
    """Record hosted images and videos by path (the content id) and their hashes, for
    retroactive sweeps. Videos are recorded by their exact hashes (video MD5, SHA-256).

    Exit codes: 0 all recorded, 1 some files could not be hashed (reported, the rest go on).
    """
    from shieldwall.hashing import hash_many, ledger_signals  # noqa: PLC0415 (loaded when used)

    files = [str(p) for p in expand_inputs(paths) if not isinstance(p, tuple)]
    items: list[tuple[str, list[Signal]]] = []
    failed = 0
    with progress_bar("hashing", enabled=len(files) >= 20) as bar:
        task = bar.add_task("hash", total=len(files))
        # Videos: no vpdq (the ledger keeps exact hashes of videos, see add_to_ledger).
        for result in hash_many(files, ledger_signals(), workers=workers):
            bar.advance(task)
            if result.error is not None:
                failed += 1
                err_console.print(f"[red]skipped[/] {result.error.message}", highlight=False)
            else:
                items.append((result.source, list(result.signals.values())))
    from shieldwall.matching import add_to_ledger  # noqa: PLC0415 (loaded when used)

    count = add_to_ledger(open_database(), items)
    typer.echo(f"recorded {count} items in the ledger")
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@ledger_app.command("import")
def ledger_import_command(
    file: Annotated[Path, typer.Argument(help="JSON lines, as `shieldwall hash` writes them.")],
) -> None:
    """Record hosted content from JSON lines: ``{"content_id" (or "path"), "pdq": {"hash",
    "quality"}, "md5": {"hash"}, ...}`` per line, which is what ``shieldwall hash`` prints."""
    from shieldwall.signals.base import Signal  # noqa: PLC0415 (loaded when used)

    items: list[tuple[str, list[Signal]]] = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"{file}: cannot read: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            cid = obj.get("content_id") or obj["path"]
            signals = [
                Signal(name, value["hash"], value.get("quality"))
                for name, value in obj.items()
                if isinstance(value, dict) and "hash" in value
            ]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise UsageError(f"{file}:{number}: not a hash record with a content_id") from None
        items.append((str(cid), signals))
    from shieldwall.matching import add_to_ledger  # noqa: PLC0415 (loaded when used)

    count = add_to_ledger(open_database(), items)
    typer.echo(f"recorded {count} items in the ledger")


@app.command("sweep")
def sweep_command(
    full: Annotated[
        bool, typer.Option("--full", help="Check every live block signal, not just new ones.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Find hosted copies of block-bank signals added since the last sweep, and store them as
    matches. Run it after adding hashes (or on a timer); running it again finds nothing new."""
    from shieldwall.matching import sweep  # noqa: PLC0415 (loaded when used)

    db = open_database()
    with progress_bar("sweeping ledger") as bar:
        task = bar.add_task("sweep", total=None)
        outcome = sweep(db, full=full, progress=lambda n: bar.advance(task, n))
    if fmt is not Format.table:
        emit(
            (
                {
                    "from_seq": outcome.from_seq,
                    "to_seq": outcome.to_seq,
                    "signals_checked": outcome.signals_checked,
                    "ledger_scanned": outcome.ledger_scanned,
                    "matches": [
                        {
                            "content_id": cid,
                            "bank": m.bank,
                            "entry_id": m.entry_id,
                            "signal_type": m.signal_type,
                        }
                        for cid, found in sorted(outcome.matches.items())
                        for m in found
                    ],
                    "suppressed": outcome.suppressed,
                    "quarantined_signals": outcome.quarantined,
                    "seconds": round(outcome.seconds, 3),
                }
            ),
            fmt,
        )
        return
    typer.echo(
        f"checked {outcome.signals_checked} new block signals against {outcome.ledger_scanned} "
        f"ledger hashes in {outcome.seconds:.2f} s: {len(outcome.matches)} hosted items matched"
    )
    for cid, found in sorted(outcome.matches.items()):
        banks_hit = ", ".join(sorted({f"{m.bank} entry {m.entry_id}" for m in found}))
        typer.echo(f"  {cid}: {banks_hit}")
    if outcome.quarantined:
        typer.echo(f"quarantined for review (flooding): signals {outcome.quarantined}")
