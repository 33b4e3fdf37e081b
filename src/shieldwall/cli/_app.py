"""The Typer application every command module registers on, and the one place errors become
CLI messages and exit codes.

Exit codes shared by all commands: 0 success, 1 some input failed (or, for ``match``, something
matched; for ``scan``, a warning), 2 usage or configuration error. Commands document any code of
their own in their ``--help``.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from shieldwall._version import __version__
from shieldwall.errors import ShieldwallError

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "app", "err_console", "fail", "run"]

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2

err_console = Console(stderr=True)

app = typer.Typer(
    name="shieldwall",
    help="Shieldwall: hash banks, matching, case handling and code scanning against NCII and "
    "sexual deepfakes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"shieldwall {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Shieldwall command line."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, translating every Shieldwall error exactly once."""
    try:
        app(args=argv, prog_name="shieldwall")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except ShieldwallError as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        return exc.exit_code
    return EXIT_OK


def main() -> NoReturn:
    """Console-script entry point."""
    sys.exit(run())
