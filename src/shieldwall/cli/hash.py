"""``shieldwall hash``: files, directories (recursively) and stdin to signals."""

from __future__ import annotations

import csv
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from shieldwall.cli._app import EXIT_OK, EXIT_SOME_FAILED, app, fail
from shieldwall.cli._output import Format, FormatOption, RecordWriter
from shieldwall.errors import ShieldwallError

# Hashing pulls in NumPy, Pillow, PyAV and OpenCV: imported where a command runs, so that
# `shieldwall --help` and `--version` start fast (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from rich.table import Table

    from shieldwall.hashing import BatchItem, HashResult

__all__ = ["expand_inputs", "result_to_json"]

#: Show a progress bar (on a terminal) from this many inputs on.
PROGRESS_FROM = 20
_CHUNK = 1 << 20


def expand_inputs(paths: list[str], stdin_folder: Path | None = None) -> Iterator[BatchItem]:
    """Files as given, directories walked recursively (image and video extensions), ``-`` =
    stdin: a photo or a video, told apart by its first bytes, copied to a file in
    ``stdin_folder`` (so a video is streamed like any other), else read into memory."""
    for raw in paths:
        if raw == "-":
            # Up to one byte over the larger limit: content over the limit of its kind is then
            # refused by the hashing, with its size.
            from shieldwall.config import get_settings  # noqa: PLC0415 (lazy: see the top)

            settings = get_settings()
            limit = max(settings.max_media_bytes, settings.max_video_bytes) + 1
            if stdin_folder is None:
                yield ("-", sys.stdin.buffer.read(limit))
            else:
                yield ("-", _spool_stdin(stdin_folder / "stdin", limit))
            continue
        path = Path(raw)
        if path.is_dir():
            from shieldwall.media import IMAGE_EXTENSIONS  # noqa: PLC0415 (lazy: see the top)
            from shieldwall.media.video import VIDEO_EXTENSIONS  # noqa: PLC0415

            extensions = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in extensions:
                    yield str(child)
        else:
            yield raw


def _spool_stdin(path: Path, limit: int) -> Path:
    with path.open("wb") as out:
        while limit > 0 and (chunk := sys.stdin.buffer.read(min(_CHUNK, limit))):
            out.write(chunk)
            limit -= len(chunk)
    return path


def _columns(items: list[BatchItem]) -> tuple[str, ...]:
    """Default signals for the kinds of content among ``items`` (photos first)."""
    from shieldwall.hashing import (  # noqa: PLC0415 (lazy: see the top)
        content_type_of,
        default_signals,
        sniff_content_type,
    )
    from shieldwall.signals import ContentType  # noqa: PLC0415

    kinds = {
        sniff_content_type(item[1]) if isinstance(item, tuple) else content_type_of(Path(item))
        for item in items
    }
    names: list[str] = []
    for kind in (ContentType.PHOTO, ContentType.VIDEO):
        if kind in kinds:
            names += [n for n in default_signals(kind) if n not in names]
    return tuple(names)


def result_to_json(result: HashResult) -> dict[str, object]:
    """The JSON object of one result: ``{"path", "<signal>": {"hash", "quality"?}}`` or error."""
    if result.error is not None:
        return {"path": result.source, "error": result.error.message}
    obj: dict[str, object] = {"path": result.source}
    for name, signal in result.signals.items():
        entry: dict[str, object] = {"hash": signal.value}
        if signal.quality is not None:
            entry["quality"] = signal.quality
        obj[name] = entry
    return obj


class _Writer:
    """The results in ``fmt``: csv flattens each signal into its own column (and its quality
    into ``<name>_quality``); json and jsonl write :func:`result_to_json` objects."""

    def __init__(self, fmt: Format, signals: tuple[str, ...], out: TextIO) -> None:
        self.fmt = fmt
        self.signals = signals
        self.out = out
        self.table: Table | None = None
        self.csv: csv.DictWriter[str] | None = None
        self.records = RecordWriter(fmt, out) if fmt in (Format.json, Format.jsonl) else None
        from rich.table import Table  # noqa: PLC0415 (lazy: see the top)

        from shieldwall.signals import get_signal_type  # noqa: PLC0415

        if fmt is Format.csv:
            fields = ["path"]
            for name in signals:
                fields.append(name)
                if get_signal_type(name).quality_floor is not None:
                    fields.append(f"{name}_quality")
            fields.append("error")
            self.csv = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
            self.csv.writeheader()
        elif fmt is Format.table:
            self.table = Table("path", *signals, "error", show_lines=False)

    def write(self, result: HashResult) -> None:
        from shieldwall.signals import Comparison, get_signal_type  # noqa: PLC0415

        if self.csv is not None:
            row: dict[str, object] = {"path": result.source, "error": result.error_message or ""}
            for name, signal in result.signals.items():
                row[name] = signal.value
                if signal.quality is not None:
                    row[f"{name}_quality"] = signal.quality
            self.csv.writerow(row)
        elif self.table is not None:
            cells = []
            for name in self.signals:
                found = result.signals.get(name)
                if found is None:
                    cells.append("")
                elif get_signal_type(found.type).comparison is Comparison.FRAME_SET:
                    cells.append(f"{found.value.count(chr(10)) + 1} frames (best q{found.quality})")
                elif found.quality is not None:
                    cells.append(f"{found.value} (q{found.quality})")
                else:
                    cells.append(found.value)
            self.table.add_row(result.source, *cells, result.error_message or "")
        elif self.records is not None:
            self.records.write(result_to_json(result))

    def close(self) -> None:
        from rich.console import Console  # noqa: PLC0415

        if self.records is not None:
            self.records.close()
        if self.table is not None:
            Console(file=self.out, width=400).print(self.table)


@app.command("hash")
def hash_command(
    paths: Annotated[
        list[str],
        typer.Argument(help="Files, directories (walked recursively) or - for stdin."),
    ],
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=0, help="Processes to use (default: all cores)."),
    ] = None,
    fmt: FormatOption = Format.jsonl,
    signal: Annotated[
        list[str] | None,
        typer.Option(
            "--signal", "-s", help="Signal type to compute (repeat; default pdq, md5, sha256)."
        ),
    ] = None,
    seconds_per_hash: Annotated[
        float | None,
        typer.Option(
            "--seconds-per-hash",
            min=0,
            help="Videos: hash one frame every this many seconds (0: every frame; default 1).",
        ),
    ] = None,
) -> None:
    """Hash images and videos: one result per input, in input order.

    Output is JSON lines by default (--format jsonl), one object per input (json: an array of
    them; csv: a column per signal; table: for people):
    {"path": "a.jpg", "pdq": {"hash": "<64 hex>", "quality": 93}, "md5": {"hash": "<32 hex>"},
    "sha256": {"hash": "<64 hex>"}}, or {"path": "b.jpg", "error": "<reason>"} for an input that
    cannot be hashed; the batch goes on. Videos give "vpdq" (Meta's vpdq text form, one
    "frame,quality,pdq,timestamp" line per sampled frame), "md5" and "sha256".

    Exit codes: 0 every input hashed, 1 some inputs failed, 2 usage error.
    """
    from shieldwall.signals import get_signal_type  # noqa: PLC0415 (lazy: see the top)

    try:
        for name in signal or ():
            get_signal_type(name)
    except ShieldwallError as exc:
        fail(exc.message)
    if paths.count("-") > 1:
        fail("stdin (-) can be given only once")
    with tempfile.TemporaryDirectory(prefix="shieldwall-stdin-") as stdin_folder:
        failed = _hash_all(
            list(expand_inputs(paths, Path(stdin_folder))), signal, fmt, workers, seconds_per_hash
        )
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _hash_all(
    items: list[BatchItem],
    signal: list[str] | None,
    fmt: Format,
    workers: int | None,
    seconds_per_hash: float | None,
) -> int:
    """Hash and write ``items``; returns how many failed."""
    from rich.console import Console  # noqa: PLC0415 (lazy: see the top)
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from shieldwall.hashing import hash_many  # noqa: PLC0415

    if not items:
        fail("no image or video files found in the given paths")
    names = tuple(signal) if signal else _columns(items)
    writer = _Writer(fmt, names, sys.stdout)
    failed = 0
    show_progress = sys.stderr.isatty() and len(items) >= PROGRESS_FROM
    with Progress(
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("hash", total=len(items))
        requested = tuple(signal) if signal else None
        for result in hash_many(
            items, requested, workers=workers, seconds_per_hash=seconds_per_hash
        ):
            failed += not result.ok
            writer.write(result)
            progress.advance(task)
    writer.close()
    return failed
