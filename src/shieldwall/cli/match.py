"""``shieldwall match``: check images or hashes against every enabled bank."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from shieldwall import banks
from shieldwall.cli._app import EXIT_OK, app
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, RecordWriter
from shieldwall.cli._progress import progress_bar
from shieldwall.cli.hash import expand_inputs
from shieldwall.errors import ShieldwallError, UsageError

if TYPE_CHECKING:
    from shieldwall.matching import BankMatch, MatchOutcome

__all__ = ["EXIT_INPUT_FAILED", "EXIT_MATCHED", "match_to_json", "outcome_to_json"]

#: ``match`` exit codes: something matched; nothing matched but some input failed.
EXIT_MATCHED = 1
EXIT_INPUT_FAILED = 3
#: The csv columns (the keys an input's object may have).
_COLUMNS = ("input", "content_id", "matches", "allowed_by", "error")


def match_to_json(m: BankMatch) -> dict[str, object]:
    """One match as :meth:`BankMatch.public` gives it (never a distance)."""
    return m.public()


def outcome_to_json(source: str, outcome: MatchOutcome) -> dict[str, object]:
    """One input's JSON object: its matches (:func:`match_to_json`), never distances."""
    obj: dict[str, object] = {
        "input": source,
        "content_id": outcome.content_id,
        "matches": [match_to_json(m) for m in outcome.matches],
    }
    if outcome.allowed_by:
        obj["allowed_by"] = sorted({m.bank for m in outcome.allowed_by})
    if outcome.error is not None:
        obj["error"] = outcome.error.message
    return obj


def _spans(ranges: tuple[tuple[float, float], ...]) -> str:
    return ", ".join(f"{start:.1f}-{end:.1f} s" for start, end in ranges)


def _describe(m: BankMatch) -> str:
    text = f"{m.bank} entry {m.entry_id} ({m.signal_type}"
    if m.video is not None:
        text += (
            f": {m.video.query_share:.0%} of the video's frames at "
            f"{_spans(m.video.query_ranges)}, {m.video.compared_share:.0%} of the banked "
            f"video's at {_spans(m.video.compared_ranges)}"
        )
    if m.variant != "original":
        text += f", as {m.variant}"
    if m.bank_variant is not None:
        text += f", banked {m.bank_variant}"
    return text + ")"


def _write(source: str, outcome: MatchOutcome, writer: RecordWriter | None) -> None:
    if writer is not None:
        writer.write(outcome_to_json(source, outcome))
    elif outcome.error is not None:
        typer.echo(f"{source}: error: {outcome.error.message}")
    elif outcome.matches:
        found = ", ".join(_describe(m) for m in outcome.matches)
        typer.echo(f"{source}: MATCH {found}")
    elif outcome.allowed_by:
        typer.echo(f"{source}: no match (allow-listed by {outcome.allowed_by[0].bank})")
    else:
        typer.echo(f"{source}: no match")


@app.command("match")
def match_command(  # noqa: PLR0917 - a Typer signature
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Image or video files, or directories (walked recursively), to check."),
    ] = None,
    hashes: Annotated[
        list[str] | None,
        typer.Option("--hash", help="TYPE:VALUE to check (repeat); each is one input."),
    ] = None,
    content_id: Annotated[
        str | None,
        typer.Option(help="The platform's id of the content (one input only; default: path)."),
    ] = None,
    dihedral: Annotated[
        bool | None,
        typer.Option(
            "--dihedral/--no-dihedral",
            help="Also match rotations and flips (default: SHIELDWALL_MATCH_DIHEDRAL).",
        ),
    ] = None,
    normalise: Annotated[
        bool | None,
        typer.Option(
            "--normalise/--no-normalise",
            help="Also match photos with borders and caption bars cut, the photo inside a "
            "screenshot, and small rotations undone, and video frames with their borders cut "
            "(default: SHIELDWALL_MATCH_NORMALISE).",
        ),
    ] = None,
    local_features: Annotated[
        bool | None,
        typer.Option(
            "--local-features/--no-local-features",
            help="Also match photos by local features where a bank holds them (default: "
            "SHIELDWALL_MATCH_LOCAL_FEATURES).",
        ),
    ] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Store the matches found.")
    ] = True,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=0, help="Hashing processes.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Match images, videos or hashes against every enabled bank, and store the matches.

    With --format jsonl, one object a line per input (json: an array of them; csv: a line
    each, the matches as JSON):
    {"input": "a.jpg", "content_id": "a.jpg", "matches": [{"bank": "ncii", "entry_id": 7,
    "signal_type": "pdq"}]}, with an empty list when nothing matched ("allowed_by" names the
    allow banks that suppressed matches; "error" says why an input could not be checked).
    A video's frame match ("signal_type": "vpdq") also gives "query_share" and "bank_share"
    (the shares of frames matched on each side) and "query_ranges" / "bank_ranges" (the
    matched [start, end] stretches, in seconds, of each side). Videos are hashed one frame a
    second (SHIELDWALL_VIDEO_QUERY_SECONDS_PER_HASH).

    Exit codes: 0 nothing matched, 1 something matched, 2 usage error, 3 nothing matched but
    some input could not be checked.
    """
    paths = [str(p) for p in expand_inputs(paths or []) if not isinstance(p, tuple)]
    hashes = hashes or []
    if not paths and not hashes:
        raise UsageError("give image or video files and/or --hash TYPE:VALUE")
    if content_id is not None and len(paths) + len(hashes) != 1:
        raise UsageError("--content-id needs exactly one input")
    try:  # a bad --hash is a usage error (exit 2): exit 1 means "matched" here
        queries = [(h, banks.parse_signal_string(h)) for h in hashes]
    except ShieldwallError as exc:
        raise UsageError(exc.message) from exc
    from shieldwall.config import get_settings  # noqa: PLC0415 (loaded when used)
    from shieldwall.hashing import hash_many  # noqa: PLC0415
    from shieldwall.matching import Matcher, MatchOutcome  # noqa: PLC0415

    settings = get_settings()
    # In a batch, follow the log (and bank settings) at most once a second.
    matcher = Matcher.open(open_database(), settings=settings, refresh_interval=1.0)
    matched = failed = False
    writer = None if fmt is Format.table else RecordWriter(fmt, columns=_COLUMNS)

    def done(source: str, outcome: MatchOutcome) -> None:
        nonlocal matched, failed
        matched |= outcome.matched
        failed |= outcome.error is not None
        _write(source, outcome, writer)

    for text, signal in queries:
        done(text, matcher.match(content_id or text, [signal], record=record))
    options = matcher.variant_options(dihedral=dihedral, normalise=normalise)
    with progress_bar("matching", enabled=len(paths) >= 20) as bar:
        task = bar.add_task("match", total=len(paths))
        sampling = settings.video_query_seconds_per_hash
        if workers is None and len(paths) == 1:
            workers = 1  # one file: hashed here, no worker pool to start
        for result in hash_many(
            paths,
            workers=workers,
            seconds_per_hash=sampling,
            variants=options,
            extra_signals=matcher.extra_signals(local_features),
        ):
            cid = content_id or result.source
            if result.error is not None:
                outcome = MatchOutcome(cid, error=result.error)
            else:
                try:
                    outcome = matcher.match(
                        cid, result.signals.values(), variants=result.variants, record=record
                    )
                except ShieldwallError as exc:
                    outcome = MatchOutcome(cid, error=exc)
                outcome.skipped_variants = result.skipped
            done(result.source, outcome)
            bar.advance(task)
    matcher.checkpoint()
    if writer is not None:
        writer.close()
    if matched:
        raise typer.Exit(EXIT_MATCHED)
    raise typer.Exit(EXIT_INPUT_FAILED if failed else EXIT_OK)
