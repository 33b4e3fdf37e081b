"""``shieldwall user ...`` (console users) and ``shieldwall audit verify|list`` (the case audit
log)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_SOME_FAILED, app
from shieldwall.cli._db import open_database
from shieldwall.errors import UsageError

__all__ = ["audit_app", "user_app"]

#: The actor the audit log records for changes made with the command line.
CLI_ACTOR = "cli"

user_app = typer.Typer(
    name="user",
    help="People who sign in to the review console: create, list, roles, disable, passwd.",
    no_args_is_help=True,
)
app.add_typer(user_app)
audit_app = typer.Typer(
    name="audit",
    help="The hash-chained case audit log: verify the chain, list events.",
    no_args_is_help=True,
)
app.add_typer(audit_app)


class Output(StrEnum):
    """How results are shown."""

    text = "text"
    json = "json"


PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from the first line of this file (default: prompt). A "
        "password is never a command-line argument.",
    ),
]


def _password(file: Path | None) -> str:
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from None
        if not lines or not lines[0]:
            raise UsageError(f"{file} holds no password on its first line")
        return lines[0]
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@user_app.command("create")
def user_create_command(
    username: Annotated[str, typer.Argument(help="Login name (lower-case).")],
    roles: Annotated[
        str,
        typer.Option(
            "--roles",
            help="Comma-separated: admin, reviewer, senior_reviewer, child_safety_reviewer, "
            "auditor.",
        ),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the username).")
    ] = None,
    password_file: PasswordFile = None,
) -> None:
    """Create a console user with a password and roles."""
    from shieldwall.people.accounts import create_person  # noqa: PLC0415 (loaded when used)

    person = create_person(
        open_database(),
        username,
        _password(password_file),
        roles,
        display_name=name,
        by=CLI_ACTOR,
    )
    typer.echo(f"created {person.username} (roles: {', '.join(sorted(person.roles)) or 'none'})")


@user_app.command("list")
def user_list_command(
    output: Annotated[Output, typer.Option("--format", "-f", help="text or json.")] = Output.text,
) -> None:
    """List console users, their roles and state."""
    from shieldwall.people.accounts import list_people  # noqa: PLC0415 (loaded when used)

    people = list_people(open_database())
    if output is Output.json:
        for p in people:
            record = {
                "username": p.username,
                "display_name": p.display_name,
                "roles": sorted(p.roles),
                "disabled": p.disabled,
                "locked_until": p.locked_until.isoformat() if p.locked_until else None,
                "created_at": p.created_at.isoformat(),
            }
            typer.echo(json.dumps(record))
        return
    for p in people:
        state = "disabled" if p.disabled else ("locked" if p.locked_until else "active")
        roles = ",".join(sorted(p.roles)) or "-"
        typer.echo(f"{p.username}\t{p.display_name}\t{roles}\t{state}")


@user_app.command("roles")
def user_roles_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    roles: Annotated[str, typer.Argument(help="The new roles, comma-separated (replace all).")],
) -> None:
    """Replace a user's roles (recorded in the audit log)."""
    from shieldwall.people.accounts import set_roles  # noqa: PLC0415 (loaded when used)

    person = set_roles(open_database(), username, roles, by=CLI_ACTOR)
    typer.echo(f"{person.username}: roles {', '.join(sorted(person.roles)) or 'none'}")


@user_app.command("disable")
def user_disable_command(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user: no more logins; their sessions end now."""
    from shieldwall.people.accounts import disable  # noqa: PLC0415 (loaded when used)

    disable(open_database(), username, by=CLI_ACTOR)
    typer.echo(f"disabled {username}")


@user_app.command("passwd")
def user_passwd_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_file: PasswordFile = None,
) -> None:
    """Set a user's password (unlocks the account and ends its sessions)."""
    from shieldwall.people.accounts import set_password  # noqa: PLC0415 (loaded when used)

    set_password(open_database(), username, _password(password_file), by=CLI_ACTOR)
    typer.echo(f"password of {username} changed")


@audit_app.command("verify")
def audit_verify_command() -> None:
    """Check the whole hash chain.

    Exit codes: 0 the chain is intact, 1 it is broken (the first broken event is named).
    """
    from shieldwall.audit import list_events, verify  # noqa: PLC0415 (loaded when used)

    db = open_database()
    broken = verify(db)
    if broken is not None:
        typer.echo(f"chain broken at event {broken}", err=True)
        raise typer.Exit(EXIT_SOME_FAILED)
    count = 0
    after = 0
    while events := list_events(db, after_seq=after, limit=10_000):
        count += len(events)
        after = events[-1].seq
    typer.echo(f"chain intact: {count} events")


@audit_app.command("list")
def audit_list_command(
    after: Annotated[int, typer.Option("--after", min=0, help="Events after this seq.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    output: Annotated[Output, typer.Option("--format", "-f", help="text or json.")] = Output.text,
) -> None:
    """List audit events in order (JSON: one object per line)."""
    from shieldwall.audit import list_events  # noqa: PLC0415 (loaded when used)

    for e in list_events(open_database(), after_seq=after, limit=limit):
        if output is Output.json:
            record = {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "details": e.details,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            typer.echo(json.dumps(record, sort_keys=True))
        else:
            details = json.dumps(e.details, sort_keys=True) if e.details else ""
            typer.echo(
                f"{e.seq}\t{e.at.isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t"
                f"{e.subject}\t{details}".rstrip()
            )
