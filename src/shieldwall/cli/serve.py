"""``shieldwall serve`` (the HTTP service) and ``shieldwall key`` (its API keys)."""

from __future__ import annotations

import json
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shieldwall.cli._app import EXIT_OK, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.config import get_settings
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.store import Database

__all__ = ["key_app"]


class RoleChoice(StrEnum):
    """What one process serves."""

    all = "all"
    api = "api"
    matcher = "matcher"
    worker = "worker"


class Output(StrEnum):
    """How results are shown."""

    text = "text"
    json = "json"


DEMO_BANK = "demo-ncii"
DEMO_USER = "demo"


def _demo_setup(port: int, host: str) -> None:
    """A demo bank holding a generated photo, a key with every scope, and how to try it."""
    from shieldwall import banks  # noqa: PLC0415
    from shieldwall.errors import NotFound  # noqa: PLC0415
    from shieldwall.hashing import hash_file  # noqa: PLC0415
    from shieldwall.media import synthetic  # noqa: PLC0415
    from shieldwall.people.keys import create_key  # noqa: PLC0415

    db = open_database()
    try:
        banks.get_bank(db, DEMO_BANK)
    except NotFound:
        banks.create_bank(db, DEMO_BANK, "block", description="Demo bank: a generated photo")
    folder = Path(tempfile.gettempdir()) / "shieldwall-demo"
    folder.mkdir(exist_ok=True)
    original = folder / "banked.jpg"
    original.write_bytes(synthetic.encode(synthetic.scene(seed=7)))
    (folder / "copy-q40.jpg").write_bytes(synthetic.encode(synthetic.scene(seed=7), quality=40))
    (folder / "unrelated.jpg").write_bytes(synthetic.encode(synthetic.scene(seed=8)))
    result = hash_file(original)
    banks.add_entry(
        db,
        DEMO_BANK,
        [result.signals["pdq"], result.signals["md5"]],
        external_ids=["demo-case-1"],
        provenance="reviewer",
    )
    _, secret = create_key(db, "demo", "admin,read-distances")
    base = f"http://{host}:{port}"
    console_line = _demo_console(db)
    typer.echo(
        f"""
Shieldwall demo: bank {DEMO_BANK!r} holds {original}.
API key (admin, shown once): {secret}
{console_line}
Report form: {base}/report   Review console: {base}/console

Try it (a recompressed copy matches; an unrelated photo does not):
  curl -s -H 'Authorization: Bearer {secret}' -F file=@{folder / "copy-q40.jpg"} {base}/v1/lookup
  curl -s -H 'Authorization: Bearer {secret}' -F file=@{folder / "unrelated.jpg"} {base}/v1/lookup
API documentation: {base}/docs   Health: {base}/readyz   Metrics: {base}/metrics
"""
    )


def _demo_console(db: Database) -> str:
    """A console user ``demo`` (admin, reviewer, senior reviewer, auditor) with a password
    shown once, and a demo notice in the queue; returns the line that tells how to sign in."""
    import secrets  # noqa: PLC0415

    from shieldwall.cases import submit_notice  # noqa: PLC0415
    from shieldwall.cases.notices import DECLARATIONS  # noqa: PLC0415
    from shieldwall.errors import Conflict  # noqa: PLC0415
    from shieldwall.people.accounts import create_person  # noqa: PLC0415

    password = secrets.token_urlsafe(12)
    try:
        create_person(
            db,
            DEMO_USER,
            password,
            "admin,reviewer,senior_reviewer,auditor",
            display_name="Demo Reviewer",
            by="cli",
        )
    except Conflict:
        return (
            f"Console user {DEMO_USER!r} exists already (its password was shown when it was "
            f"made; set a new one with: shieldwall user passwd {DEMO_USER})"
        )
    submit_notice(
        db,
        get_settings(),
        {
            "reporter_name": "Demo Reporter",
            "reporter_email": "reporter@demo.invalid",
            "signature": "Demo Reporter",
            "explanation": "A demo notice: an intimate image of me posted without my consent.",
            "urls": ["https://platform.example/posts/demo-post-1"],
            "content_ids": ["demo-post-1"],
            "content_kind": "synthetic",
            **dict.fromkeys(DECLARATIONS, True),
        },
    )
    return f"Console user (shown once): {DEMO_USER} / {password}   (a demo notice is in the queue)"


@app.command("serve")
def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default: api_host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on (default: api_port).")
    ] = None,
    role: Annotated[
        RoleChoice | None,
        typer.Option(
            "--role",
            help="all: everything in one process (SQLite is fine). api, matcher, worker: one "
            "part each, several processes on one PostgreSQL database behind a load balancer "
            "(default: service_role).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes sharing the port, each with its own index following the log.",
        ),
    ] = 1,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Create a demo bank and an admin key, and print how to try."),
    ] = False,
) -> None:
    """Run the HTTP service until SIGTERM or Ctrl-C (in-flight requests finish first)."""
    from shieldwall.server.run import serve  # noqa: PLC0415

    settings = get_settings()
    bind_host = host or settings.api_host
    bind_port = settings.api_port if port is None else port
    chosen = role.value if role is not None else settings.service_role
    db = open_database()
    if chosen != "all" and db.dialect == "sqlite":
        err_console.print(
            "[yellow]note:[/] separate roles share one database; use PostgreSQL "
            "(SHIELDWALL_DATABASE_URL) when they run on several machines"
        )
    if demo:
        _demo_setup(bind_port, bind_host)
    serve(settings, role=chosen, host=bind_host, port=bind_port, workers=workers)


key_app = typer.Typer(
    name="key", help="API keys of the HTTP service (stored hashed).", no_args_is_help=True
)
app.add_typer(key_app)


@key_app.command("create")
def key_create_command(
    scopes: Annotated[
        str,
        typer.Option(
            "--scopes",
            "-s",
            help="Comma-separated: hash, match, curate, review, admin, read-distances.",
        ),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="What the key is for.")] = "key",
    rate_limit: Annotated[
        float | None,
        typer.Option("--rate-limit", help="Requests per second (default: api_rate_limit)."),
    ] = None,
    output: Annotated[Output, typer.Option("--format", "-f")] = Output.text,
) -> None:
    """Create a key and print it; it is stored hashed and cannot be shown again."""
    from shieldwall.people.keys import create_key  # noqa: PLC0415

    info, secret = create_key(open_database(), name, scopes, rate_limit=rate_limit)
    if output is Output.json:
        typer.echo(json.dumps({**info.to_dict(), "key": secret}))
    else:
        typer.echo(secret)
        err_console.print(
            f"key {info.prefix} ({', '.join(s.value for s in info.scopes)}): "
            "keep it now, it is not shown again"
        )
    raise typer.Exit(EXIT_OK)


@key_app.command("list")
def key_list_command(
    output: Annotated[Output, typer.Option("--format", "-f")] = Output.text,
) -> None:
    """List keys (never their secrets)."""
    from shieldwall.people.keys import list_keys  # noqa: PLC0415

    found = list_keys(open_database())
    if output is Output.json:
        for k in found:
            typer.echo(json.dumps(k.to_dict()))
        return
    for k in found:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        scopes = ",".join(s.value for s in k.scopes)
        typer.echo(f"{k.id}\t{k.prefix}\t{k.name}\t{scopes}\t{state}")


@key_app.command("revoke")
def key_revoke_command(
    key: Annotated[str, typer.Argument(help="The key's id or prefix (or the key itself).")],
) -> None:
    """Revoke a key; every service process refuses it within api_key_cache_seconds."""
    from shieldwall.people.keys import revoke_key  # noqa: PLC0415

    if not key.strip():
        raise UsageError("give a key id or prefix")
    info = revoke_key(open_database(), key)
    typer.echo(f"revoked {info.prefix} ({info.name})")
