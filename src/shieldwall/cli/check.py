"""``shieldwall check`` (is this configuration fit for production?) and ``shieldwall
migrate`` (bring the database schema to this version)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app

__all__: list[str] = []


@app.command("check")
def check_command(
    replicas: Annotated[
        int,
        typer.Option(
            "--replicas",
            min=1,
            help="Service processes that will share this database (every serve of any role, "
            "each of its --workers counted).",
        ),
    ] = 1,
    behind_proxy: Annotated[
        bool,
        typer.Option("--behind-proxy", help="A reverse proxy (TLS, load balancer) is in front."),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Check the settings only: reach no database or Redis."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Validate this configuration (the environment, SHIELDWALL_CONFIG) for production and name
    each problem: SQLite or no Redis with several replicas, a proxy that is not trusted,
    default secrets, demo data, an outbound policy that reaches private networks, a database or
    Redis that does not answer, a schema not at this version. Exit codes: 0 no problem, 1 some
    problem, 2 the settings themselves are invalid."""
    from shieldwall.config import get_settings  # noqa: PLC0415 (loaded when used)
    from shieldwall.deployment import Deployment, check_deployment  # noqa: PLC0415

    settings = get_settings()
    deployment = Deployment(replicas=replicas, behind_proxy=behind_proxy)
    problems = check_deployment(settings, deployment, reach=not offline)
    if as_json:
        typer.echo(json.dumps({"ok": not problems, "problems": [p.as_dict() for p in problems]}))
    else:
        for p in problems:
            where = f" {p.setting}" if p.setting else ""
            typer.echo(f"problem [{p.code}]{where}: {p.message}")
        if not problems:
            typer.echo(
                f"ok: no problem found for {replicas} replica(s)"
                f"{' behind a proxy' if behind_proxy else ''}"
                f"{' (settings only)' if offline else ''}"
            )
    raise typer.Exit(EXIT_SOME_FAILED if problems else EXIT_OK)


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema to this version's revision (what the first process to open an
    older database does on its own; run it once, before starting the new version, in an
    upgrade). Several at once are safe: migrations are serialised by a lock."""
    from shieldwall.config import get_settings  # noqa: PLC0415 (loaded when used)
    from shieldwall.store import Database  # noqa: PLC0415

    settings = get_settings()
    db = Database(
        settings.resolved_database_url(),
        busy_timeout_ms=settings.database_busy_timeout_ms,
        migrate=False,
    )
    try:
        before = db.current_revision()
        head = db.head_revision()
        if before == head:
            typer.echo(f"the schema is at {head} already")
            return
        db.migrate()
        typer.echo(f"migrated the schema from {before or 'nothing (empty)'} to {head}")
    finally:
        db.dispose()
