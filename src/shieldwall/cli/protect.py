"""``shieldwall protect FILES...``: a helpline protects a person's photos and videos.

The files are hashed on this computer (the same hashes as ``bank add``: PDQ with its bank-side
crops, MD5, SHA-256; vPDQ of videos, every frame) and only the hashes are filed, as the
``/protect`` page does: into this installation's database, or with ``--url`` to a Shieldwall
service's ``/protect/cases``. The case number and the PIN are printed once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shieldwall.cli._app import EXIT_SOME_FAILED, app, err_console, fail
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.cli.hash import expand_inputs
from shieldwall.errors import UsageError

if TYPE_CHECKING:
    from shieldwall.hashing import HashResult
    from shieldwall.signals import ContentType, Signal

__all__ = ["protect_command", "submission_from_results"]


def _signal_json(signal: Signal) -> dict[str, Any]:
    out: dict[str, Any] = {"type": signal.type, "value": signal.value}
    if signal.quality is not None:
        out["quality"] = signal.quality
    if signal.variant is not None:
        out["variant"] = signal.variant
    return out


def submission_from_results(
    results: list[tuple[ContentType, HashResult]], *, stopncii: bool, language: str = "en"
) -> dict[str, Any]:
    """The ``/protect`` submission (hashes only) of hashed files."""
    from shieldwall.signals import ContentType  # noqa: PLC0415 (lazy: cli/__init__.py)

    items = [
        {
            "kind": "video" if kind is ContentType.VIDEO else "photo",
            "signals": [_signal_json(s) for s in result.signals.values()],
            "variants": [_signal_json(s) for s in result.bank_variants],
        }
        for kind, result in results
    ]
    return {
        "consent": {"platform": True, "stopncii": stopncii},
        "declarations": {"depicted": True, "adult": True},
        "language": language,
        "items": items,
    }


def _post(url: str, submission: dict[str, Any]) -> dict[str, Any]:
    import httpx  # noqa: PLC0415 - only this path needs it

    target = url.rstrip("/") + "/protect/cases"
    try:
        answer = httpx.post(target, json=submission, timeout=60.0)
    except httpx.HTTPError as exc:
        fail(f"{target}: {exc}")
    try:
        body = answer.json()
    except ValueError:
        fail(f"{target} answered {answer.status_code} without JSON")
    if answer.status_code != 201:
        message = body.get("message", body) if isinstance(body, dict) else body
        fail(f"{target} refused the case ({answer.status_code}): {message}")
    assert isinstance(body, dict)
    return body


@app.command("protect")
def protect_command(  # noqa: PLR0917 - a Typer signature
    paths: Annotated[list[str], typer.Argument(help="The person's photos and videos.")],
    stopncii: Annotated[
        bool,
        typer.Option(
            "--stopncii/--this-platform-only",
            help="The person also consents to sharing the hashes through StopNCII.",
        ),
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(help="File the case with this Shieldwall service instead of locally."),
    ] = None,
    language: Annotated[str, typer.Option(help="The person's language (en, es).")] = "en",
    fmt: FormatOption = Format.table,
    as_json: Annotated[
        bool, typer.Option("--json", hidden=True, help="The same as --format json.")
    ] = False,
) -> None:
    """Hash a person's files here and file a protection case with the hashes only.

    The person must be the one depicted and 18 or over (minors: NCMEC's Take It Down). Prints
    the case number and the PIN, once: give both to the person. A file that cannot be hashed
    is named and skipped. Exit codes: 0 filed, 1 filed but some files were skipped (or none
    could be hashed: nothing filed), 2 usage error.
    """
    from shieldwall.config import get_settings  # noqa: PLC0415 (lazy: cli/__init__.py)
    from shieldwall.hashing import content_type_of, hash_many  # noqa: PLC0415
    from shieldwall.signals import ContentType  # noqa: PLC0415

    settings = get_settings()
    files = [Path(p) for p in expand_inputs(paths) if not isinstance(p, tuple)]
    if not files:
        raise UsageError("give the photos and videos to protect")
    kinds = {str(f): content_type_of(f) for f in files}
    hashed: list[tuple[ContentType, HashResult]] = []
    skipped = 0
    for result in hash_many(
        [str(f) for f in files],
        None,
        workers=1 if len(files) == 1 else None,
        seconds_per_hash=settings.video_bank_seconds_per_hash,
        bank_variants=settings.bank_variants,
    ):
        if result.error is not None:
            err_console.print(
                f"skipped {result.source}: {result.error.message}",
                highlight=False,
                soft_wrap=True,  # a path is never broken across lines
            )
            skipped += 1
            continue
        hashed.append((kinds.get(result.source, ContentType.PHOTO), result))
    if not hashed:
        fail("no file could be hashed: nothing was filed", EXIT_SOME_FAILED)
    submission = submission_from_results(hashed, stopncii=stopncii, language=language)
    if url is not None:
        answer = _post(url, submission)
    else:
        from shieldwall.cases.victims import file_case  # noqa: PLC0415 - the database layer

        receipt = file_case(open_database(), settings, submission, channel="helpline")
        answer = {
            "case_number": receipt.case_number,
            "pin": receipt.pin,
            "items": receipt.items,
            "signals": receipt.signals,
            "stopncii": receipt.stopncii,
        }
    if as_json:
        fmt = Format.json
    if fmt is not Format.table:
        emit(answer, fmt)
    else:
        typer.echo(f"case number: {answer['case_number']}")
        typer.echo(f"PIN:         {answer['pin']}")
        typer.echo(
            f"{answer['items']} files protected ({answer['signals']} hashes); "
            "give the person the case number and the PIN: the PIN is not shown again."
        )
        if answer.get("stopncii") == "pending":
            typer.echo(
                "StopNCII: queued; the worker shares the PDQ and MD5 hashes "
                "(the case status says when they reached StopNCII)."
            )
    if skipped:
        raise typer.Exit(EXIT_SOME_FAILED)
