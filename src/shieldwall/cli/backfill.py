"""``shieldwall backfill``: hash a platform's archive into the ledger, then match it against
every bank."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.cli._progress import progress_bar
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.matching.backfill import ArchiveItem, BackfillReport, Failure, HashEngine
    from shieldwall.store import Database

__all__ = ["backfill_command"]


class Engine(StrEnum):
    """Where the hashing runs."""

    local = "local"
    ray = "ray"


def _count_lines(listing: Path) -> int:
    try:
        with listing.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip() and not line.lstrip().startswith("#"))
    except OSError as exc:
        raise UsageError(f"{listing}: cannot read: {exc.strerror}") from exc


@app.command("backfill")
def backfill_command(  # noqa: PLR0917 - a Typer signature
    source: Annotated[
        Path,
        typer.Argument(
            help="The archive: a directory (walked recursively; content id = the path under "
            "it), or a listing file of 'content_id<TAB>path or URL' lines (or JSON objects "
            'with "content_id" and "path" or "url").'
        ),
    ],
    engine: Annotated[
        Engine, typer.Option("--engine", help="local processes, or a Ray cluster.")
    ] = Engine.local,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="The Ray cluster to join ('auto', 'ray://head:10001'); implies --engine ray. "
            "Without it, --engine ray starts Ray on this machine.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            help="Hashing processes (Ray: actors); 0: one per core (default: the workers setting).",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Items hashed and written per transaction.")
    ] = 256,
    match: Annotated[
        bool,
        typer.Option(
            "--match/--no-match", help="Match the new ledger items against every bank after."
        ),
    ] = True,
    failures_file: Annotated[
        Path | None,
        typer.Option("--failures", help="Also write the failed items here, as JSON lines."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Hash a platform's archive into the ledger (content ids and hashes, never media), then
    match the new ledger items against every bank and store the block-bank matches (as a
    sweep does).

    Resumable: run it again after a stop and it skips what the ledger already holds with the
    same file size and modification time (or URL). Each batch is written in one transaction,
    so a killed run leaves whole batches. URLs are fetched under the outbound policy
    (SHIELDWALL_FETCH_ALLOWED_HOSTS). Failed items are listed on stderr with the reason; the
    rest go on.

    Exit codes: 0 every item recorded, 1 some items failed, 2 usage error.
    """
    from shieldwall.config import get_settings  # noqa: PLC0415 (loaded when used)
    from shieldwall.matching import backfill as bf  # noqa: PLC0415 (loaded when used)

    settings = get_settings()
    if ray_address:
        engine = Engine.ray
    items: Iterator[ArchiveItem]
    if source.is_dir():
        listed = list(bf.walk_directory(source))
        total = len(listed)
        items = iter(listed)
    elif source.is_file():
        total = _count_lines(source)
        items = bf.read_listing(source)
    else:
        raise UsageError(f"{source}: no such directory or listing file")
    count = settings.workers if workers is None else workers
    joined = False
    if engine is Engine.ray:
        from shieldwall.matching import backfill_ray  # noqa: PLC0415 (Ray is optional)

        joined = backfill_ray.connect(ray_address)
        hasher = backfill_ray.hash_on_ray(count, settings)
    else:
        hasher = bf.hash_locally(count, settings)
    db = open_database()
    try:
        report = _hash_archive(db, items, total, hasher, batch_size, failures_file)
    finally:
        if joined:
            import ray  # noqa: PLC0415 (optional dependency)

            ray.shutdown()
    matched = None
    if match:
        with progress_bar("matching", rate="items") as bar:
            task = bar.add_task("match", total=None)
            matched = bf.match_new_items(
                db, settings=settings, progress=lambda n: bar.advance(task, n)
            )
        report.matched = matched
    _summary(report, fmt)
    raise typer.Exit(EXIT_SOME_FAILED if report.failures else EXIT_OK)


def _hash_archive(  # noqa: PLR0917 - private, called once
    db: Database,
    items: Iterator[ArchiveItem],
    total: int,
    hasher: HashEngine,
    batch_size: int,
    failures_file: Path | None,
) -> BackfillReport:
    from shieldwall.matching.backfill import backfill  # noqa: PLC0415 (loaded when used)

    try:
        out = failures_file.open("w", encoding="utf-8") if failures_file else None
    except OSError as exc:
        raise UsageError(f"{failures_file}: cannot write: {exc.strerror}") from exc
    try:
        with progress_bar("backfill", rate="items") as bar:
            task = bar.add_task("backfill", total=total)

            def failed(failure: Failure) -> None:
                bar.console.print(
                    f"[red]failed[/] {failure.content_id}: {failure.reason}", highlight=False
                )
                if out is not None:
                    line = {"content_id": failure.content_id, "reason": failure.reason}
                    out.write(json.dumps(line) + "\n")

            return backfill(
                db,
                items,
                engine=hasher,
                batch_size=batch_size,
                progress=lambda n: bar.advance(task, n),
                on_failure=failed,
            )
    finally:
        if out is not None:
            out.close()


def _summary(report: BackfillReport, fmt: Format) -> None:
    matched = report.matched
    if fmt is not Format.table:
        emit(
            {
                "total": report.total,
                "recorded": report.recorded,
                "skipped": report.skipped,
                "failed": [
                    {"content_id": f.content_id, "reason": f.reason} for f in report.failures
                ],
                "seconds": round(report.seconds, 3),
                "items_per_second": round(report.rate, 2),
                "matched": None
                if matched is None
                else {
                    "items_checked": matched.items_checked,
                    "matches": matched.matches,
                    "suppressed": matched.suppressed,
                    "quarantined_signals": matched.quarantined,
                },
            },
            fmt,
        )
        return
    typer.echo(
        f"recorded {report.recorded} of {report.total} items in the ledger, skipped "
        f"{report.skipped} already there, {len(report.failures)} failed, in "
        f"{report.seconds:.1f} s ({report.rate:.1f} items/s)"
    )
    if matched is not None:
        typer.echo(
            f"matched {matched.items_checked} new ledger items against every bank: "
            f"{len(matched.matches)} hosted items matched"
        )
        for cid, hits in sorted(matched.matches.items()):
            typer.echo(f"  {cid}: {', '.join(hits)}")
        if matched.quarantined:
            typer.echo(f"quarantined for review (flooding): signals {matched.quarantined}")
