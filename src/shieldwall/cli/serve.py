"""``shieldwall serve`` (the HTTP service) and ``shieldwall key`` (its API keys)."""

from __future__ import annotations

import json
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shieldwall.cli._app import EXIT_OK, app, err_console
from shieldwall.cli._db import cli_actor, open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.cli._demo_platform import DemoPlatform
    from shieldwall.store import Database

__all__ = ["key_app"]


class RoleChoice(StrEnum):
    """What one process serves."""

    all = "all"
    api = "api"
    matcher = "matcher"
    worker = "worker"


DEMO_BANK = "demo-ncii"  # shieldwall.deployment names them as demo data to remove
DEMO_USER = "demo"
#: The demo notice's post: on the stand-in platform, not in the ledger.
DEMO_POST = "demo-post-1"
#: An altered re-upload of it (recompressed, smaller) that the ledger knows: the sweep's find.
DEMO_REPOST = "demo-repost-1"


def demo_posts() -> dict[str, bytes]:
    """The stand-in platform's posts: the reported one, an altered re-upload, an unrelated."""
    import numpy as np  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    from shieldwall.media import synthetic  # noqa: PLC0415

    reported = synthetic.scene(seed=11)
    img = Image.fromarray(reported)
    smaller = np.asarray(img.resize((img.width * 3 // 4, img.height * 3 // 4)))
    return {
        DEMO_POST: synthetic.encode(reported),
        DEMO_REPOST: synthetic.encode(smaller, quality=40),
        "demo-post-2": synthetic.encode(synthetic.scene(seed=12)),
    }


def _demo_ledger(db: Database, posts: dict[str, bytes]) -> None:
    """The platform's ledger of hosted content: every demo post but the reported one."""
    from shieldwall.hashing import hash_bytes, ledger_signals  # noqa: PLC0415
    from shieldwall.matching import add_to_ledger  # noqa: PLC0415

    items = []
    for content_id, data in posts.items():
        if content_id != DEMO_POST:
            result = hash_bytes(data, content_id, list(ledger_signals()))
            items.append((content_id, list(result.signals.values())))
    add_to_ledger(db, items)


def _demo_environment(platform: DemoPlatform) -> None:
    """Point the previews at the stand-in platform, which the outbound address policy must let
    through (it is on loopback). Set in the environment, not only in this process's settings:
    ``--workers`` processes read their settings from it."""
    from shieldwall.config import get_settings  # noqa: PLC0415

    networks = [*get_settings().outbound_allowed_networks, "127.0.0.1/32"]
    os.environ["SHIELDWALL_PREVIEW_URL_TEMPLATE"] = platform.template
    os.environ["SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS"] = json.dumps(networks)
    get_settings.cache_clear()


def _demo_setup(port: int, host: str, platform: DemoPlatform | None = None) -> None:
    """A demo bank holding a generated photo, a key with every scope, the ledger of the
    stand-in platform's posts, and how to try it."""
    from shieldwall import banks  # noqa: PLC0415
    from shieldwall.errors import NotFound  # noqa: PLC0415
    from shieldwall.hashing import hash_file  # noqa: PLC0415
    from shieldwall.media import synthetic  # noqa: PLC0415
    from shieldwall.people.keys import create_key  # noqa: PLC0415

    db = open_database()
    _demo_ledger(db, platform.posts if platform is not None else demo_posts())
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
    where = f" on the stand-in platform {platform.url}" if platform is not None else ""
    typer.echo(
        f"""
Shieldwall demo: bank {DEMO_BANK!r} holds {original}.
API key (admin, shown once): {secret}
{console_line}
Report form: {base}/report   Review console: {base}/console

The demo notice reports {DEMO_POST}{where}. The ledger of hosted content knows an altered
re-upload of it ({DEMO_REPOST}) but not the post itself. Remove the case in the console: its
hashes are taken from the platform's preview, banked, the sweep finds {DEMO_REPOST}, and a copy
task opens for it; the case page says what was banked and what the sweep found.

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
    from shieldwall.config import get_settings  # noqa: PLC0415
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
            by=cli_actor(),
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
            "urls": [f"https://platform.example/posts/{DEMO_POST}"],
            "content_ids": [DEMO_POST],
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
    from shieldwall.config import get_settings  # noqa: PLC0415
    from shieldwall.custody import check_sealing  # noqa: PLC0415
    from shieldwall.server.run import serve  # noqa: PLC0415

    platform = None
    if demo:
        from shieldwall.cli._demo_platform import DemoPlatform  # noqa: PLC0415

        platform = DemoPlatform(demo_posts()).start()
        _demo_environment(platform)
    settings = get_settings()
    from shieldwall.cases.platform import check_preview_source  # noqa: PLC0415

    check_preview_source(settings)  # before the database is opened or anything is made
    bind_host = host or settings.api_host
    bind_port = settings.api_port if port is None else port
    chosen = role.value if role is not None else settings.service_role
    db = open_database()
    check_sealing(db)  # values sealed with the current key, or none (docs/security.md)
    if chosen != "all" and db.dialect == "sqlite":
        err_console.print(
            "[yellow]note:[/] separate roles share one database; use PostgreSQL "
            "(SHIELDWALL_DATABASE_URL) when they run on several machines"
        )
    if demo:
        _demo_setup(bind_port, bind_host, platform)
    try:
        serve(settings, role=chosen, host=bind_host, port=bind_port, workers=workers)
    finally:
        if platform is not None:
            platform.stop()


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
            help="Comma-separated: hash, match, curate, review, scan, admin, read-distances, "
            "federate.",
        ),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="What the key is for.")] = "key",
    rate_limit: Annotated[
        float | None,
        typer.Option("--rate-limit", help="Requests per second (default: api_rate_limit)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Create a key and print it; it is stored hashed and cannot be shown again."""
    from shieldwall.people.keys import create_key  # noqa: PLC0415

    info, secret = create_key(open_database(), name, scopes, rate_limit=rate_limit)
    if fmt is not Format.table:
        emit({**info.to_dict(), "key": secret}, fmt)
    else:
        typer.echo(secret)
        err_console.print(
            f"key {info.prefix} ({', '.join(s.value for s in info.scopes)}): "
            "keep it now, it is not shown again"
        )
    raise typer.Exit(EXIT_OK)


@key_app.command("list")
def key_list_command(
    fmt: FormatOption = Format.table,
) -> None:
    """List keys (never their secrets)."""
    from shieldwall.people.keys import list_keys  # noqa: PLC0415

    found = list_keys(open_database())
    if fmt is not Format.table:
        emit([k.to_dict() for k in found], fmt)
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
