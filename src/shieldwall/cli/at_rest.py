"""``shieldwall at-rest new-key|status|rotate``, ``shieldwall backup`` and ``shieldwall restore``:
hashes protected at rest (docs/security.md, "Hashes at rest")."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_OK, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.errors import UsageError

__all__ = ["at_rest_app"]

at_rest_app = typer.Typer(
    name="at-rest",
    help="Bank signal values and index snapshots sealed with keys from a file (opt-in: "
    "SHIELDWALL_AT_REST_KEYS_FILE).",
    no_args_is_help=True,
)
app.add_typer(at_rest_app)


@at_rest_app.command("new-key")
def new_key_command(
    path: Annotated[Path, typer.Argument(help="The key file: created, or a key appended.")],
    key_id: Annotated[
        str, typer.Option("--id", help="The new key's id (1-16 letters, digits, - or _).")
    ],
) -> None:
    """Add a new random key at the end of a key file (created with mode 0600). The new key
    becomes the current one when the file is next read: stop the writers, then run
    `shieldwall at-rest rotate` with it before starting them again."""
    from shieldwall.custody import Keyring, new_key_line  # noqa: PLC0415

    line = new_key_line(key_id)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing.strip():
        ring = Keyring.parse(existing, source=str(path))  # refuses a damaged file
        if key_id in ring.key_ids:
            raise UsageError(f"{path} has a key {key_id!r} already")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        if existing and not existing.endswith("\n"):
            out.write("\n")
        out.write(line)
    err_console.print(f"added key {key_id} to {path}; keep a copy of this file with the backups")
    raise typer.Exit(EXIT_OK)


@at_rest_app.command("status")
def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """How many stored signal values each key seals (`(plain)`: not sealed)."""
    from shieldwall.custody import key_report  # noqa: PLC0415

    db = open_database()
    report = key_report(db)
    current = db.keyring.current_id if db.keyring is not None else None
    if as_json:
        typer.echo(json.dumps({"current_key": current, "values": report.by_key}))
        return
    typer.echo(f"current key: {current or '(none: sealing is off)'}")
    for key_id, count in report.by_key.items():
        typer.echo(f"{key_id}\t{count}")


@at_rest_app.command("rotate")
def rotate_command() -> None:
    """Re-seal every stored signal value and index snapshot with the current key (the last
    of the key file), in one transaction; plain values (sealing just turned on) are sealed.
    Older keys stay in the file, readable, until `status` shows none of their values left."""
    from shieldwall.config import get_settings  # noqa: PLC0415 (loaded when used)
    from shieldwall.custody import reseal  # noqa: PLC0415

    report = reseal(open_database(), get_settings().data_dir)
    typer.echo(
        f"re-sealed {report.resealed} values and {len(report.files)} snapshot files; now: "
        + ", ".join(f"{k} {n}" for k, n in report.by_key.items())
    )


@app.command("backup")
def backup_command(
    path: Annotated[Path, typer.Argument(help="The backup file to write.")],
    plain: Annotated[
        bool,
        typer.Option("--plain", help="Do not seal the file even when at-rest keys are set."),
    ] = False,
) -> None:
    """Write the whole database to one file (sealed when at-rest keys are configured): see
    docs/security.md, "Backup and restore"."""
    from shieldwall.custody import backup  # noqa: PLC0415

    report = backup(open_database(), path, seal=False if plain else None)
    state = "sealed" if report.sealed else "not sealed"
    typer.echo(f"wrote {report.total} rows of schema {report.schema} to {path} ({state})")


@app.command("restore")
def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `shieldwall backup`.")],
) -> None:
    """Load a backup into the configured database, which must be new (empty); all or
    nothing. A sealed backup needs the key file it was sealed with."""
    from shieldwall.custody import restore  # noqa: PLC0415

    report = restore(open_database(), path)
    typer.echo(f"restored {report.total} rows of schema {report.schema} from {path}")
