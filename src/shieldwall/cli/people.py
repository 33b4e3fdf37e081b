"""``shieldwall user ...`` (console users) and ``shieldwall audit verify|list`` (the case audit
log)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_SOME_FAILED, app, fail
from shieldwall.cli._db import cli_actor, open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.errors import UsageError

__all__ = ["audit_app", "user_app"]


user_app = typer.Typer(
    name="user",
    help="People who sign in to the review console: create, list, roles, disable, passwd, "
    "sign-out, two-factor.",
    no_args_is_help=True,
)
app.add_typer(user_app)
audit_app = typer.Typer(
    name="audit",
    help="The keyed, anchored hash-chained audit log: verify the chain, list events, make a key.",
    no_args_is_help=True,
)
app.add_typer(audit_app)


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
        by=cli_actor(),
    )
    typer.echo(f"created {person.username} (roles: {', '.join(sorted(person.roles)) or 'none'})")


@user_app.command("list")
def user_list_command(
    fmt: FormatOption = Format.table,
) -> None:
    """List console users, their roles and state."""
    from shieldwall.people.accounts import list_people  # noqa: PLC0415 (loaded when used)

    people = list_people(open_database())
    if fmt is not Format.table:
        emit(
            [
                {
                    "username": p.username,
                    "display_name": p.display_name,
                    "roles": sorted(p.roles),
                    "disabled": p.disabled,
                    "locked_until": p.locked_until.isoformat() if p.locked_until else None,
                    "two_factor": p.two_factor,
                    "two_factor_required": p.totp_required,
                    "sso": p.sso,
                    "created_at": p.created_at.isoformat(),
                }
                for p in people
            ],
            fmt,
        )
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

    person = set_roles(open_database(), username, roles, by=cli_actor())
    typer.echo(f"{person.username}: roles {', '.join(sorted(person.roles)) or 'none'}")


@user_app.command("disable")
def user_disable_command(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user: no more logins; their sessions end now."""
    from shieldwall.people.accounts import disable  # noqa: PLC0415 (loaded when used)

    disable(open_database(), username, by=cli_actor())
    typer.echo(f"disabled {username}")


@user_app.command("passwd")
def user_passwd_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_file: PasswordFile = None,
) -> None:
    """Set a user's password (unlocks the account and ends its sessions)."""
    from shieldwall.people.accounts import set_password  # noqa: PLC0415 (loaded when used)

    set_password(open_database(), username, _password(password_file), by=cli_actor())
    typer.echo(f"password of {username} changed")


@user_app.command("sign-out")
def user_sign_out_command(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """End every console session of a user, in every browser (sign out everywhere)."""
    from shieldwall.people.accounts import (  # noqa: PLC0415 (loaded when used)
        get_person,
        sign_out_everywhere,
    )

    db = open_database()
    ended = sign_out_everywhere(db, get_person(db, username).id, by=cli_actor())
    typer.echo(f"{username}: {ended} session{'' if ended == 1 else 's'} ended")


@user_app.command("require-two-factor")
def user_require_two_factor_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
    off: Annotated[
        bool, typer.Option("--off", help="Stop requiring it (the setting may still).")
    ] = False,
) -> None:
    """Require two-factor sign-in (TOTP) of a user: from the next sign-in, a right password
    without it leads to enrolment, never to the console."""
    from shieldwall.people.twofactor import require_two_factor  # noqa: PLC0415 (loaded when used)

    require_two_factor(open_database(), username, not off, by=cli_actor())
    typer.echo(f"{username}: two-factor sign-in {'not ' if off else ''}required")


@user_app.command("reset-two-factor")
def user_reset_two_factor_command(
    username: Annotated[str, typer.Argument(help="Login name.")],
) -> None:
    """Turn two-factor sign-in off for a user who lost their authenticator (the secret and
    recovery codes go, the sessions end)."""
    from shieldwall.people.twofactor import reset_two_factor  # noqa: PLC0415 (loaded when used)

    reset_two_factor(open_database(), username, by=cli_actor())
    typer.echo(f"{username}: two-factor sign-in reset")


@audit_app.command("verify")
def audit_verify_command(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="Check against this copy of the anchor (e.g. from the log store) instead of "
            "SHIELDWALL_AUDIT_ANCHOR_PATH.",
        ),
    ] = None,
) -> None:
    """Check the whole hash chain with the audit key, and the table against the anchor.

    Names what is wrong: rows missing (a gap, or newest rows deleted after the anchored head),
    a row altered, the chain recomputed without the key. Exit codes: 0 the chain is intact,
    1 it is not.
    """
    from shieldwall.audit import check_chain  # noqa: PLC0415 (loaded when used)
    from shieldwall.audit.keying import config_from_settings  # noqa: PLC0415
    from shieldwall.config import get_settings  # noqa: PLC0415

    db = open_database()
    config = config_from_settings(get_settings(), create=False)
    report = check_chain(db, key=config.key, anchor=anchor or config.anchor)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not report.intact:
        for problem in report.problems:
            typer.echo(f"broken: {problem}", err=True)
        typer.echo(f"chain broken at event {report.first_broken}", err=True)
        raise typer.Exit(EXIT_SOME_FAILED)
    keyed = f", keyed from event {report.keyed_from}" if report.keyed_from else ", not keyed"
    head = f", anchored head {report.anchored_head}" if report.anchored_head else ""
    typer.echo(f"chain intact: {report.events} events{keyed}{head}")


@audit_app.command("keygen")
def audit_keygen_command(
    path: Annotated[Path, typer.Argument(help="Where to write the new key (must not exist).")],
) -> None:
    """Make a new audit chain key (32 random bytes in hex, mode 0600): give it to every process
    as SHIELDWALL_AUDIT_KEY_FILE, and keep a copy apart from the database's backups."""
    from shieldwall.audit.keying import generate_key_file  # noqa: PLC0415 (loaded when used)

    try:
        key = generate_key_file(path)
    except FileExistsError:
        fail(f"{path} exists already: a key is never overwritten")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    typer.echo(f"audit key {key.id} written to {path}")


@audit_app.command("list")
def audit_list_command(
    after: Annotated[int, typer.Option("--after", min=0, help="Events after this seq.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    fmt: FormatOption = Format.table,
) -> None:
    """List audit events in order."""
    from shieldwall.audit import list_events  # noqa: PLC0415 (loaded when used)

    events = list_events(open_database(), after_seq=after, limit=limit)
    if fmt is not Format.table:
        emit(
            [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "details": e.details,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                    "key_id": e.key_id,
                }
                for e in events
            ],
            fmt,
        )
        return
    for e in events:
        details = json.dumps(e.details, sort_keys=True) if e.details else ""
        typer.echo(
            f"{e.seq}\t{e.at.isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t"
            f"{e.subject}\t{details}".rstrip()
        )
