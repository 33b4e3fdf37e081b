"""Progress bars on stderr for long runs (only on a terminal, so scripts see clean output)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["progress_bar"]


class _RateColumn(ProgressColumn):
    """Items per second, averaged by rich over the last 30 s."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {self.unit}/s")


def progress_bar(label: str, *, enabled: bool = True, rate: str | None = None) -> Progress:
    """A transient progress bar on stderr, shown only when stderr is a terminal: done / total,
    the time left (ETA) and, with ``rate`` (a unit: ``"items"``), the rate."""
    columns: list[ProgressColumn] = [TextColumn(label), BarColumn(), MofNCompleteColumn()]
    if rate is not None:
        columns.append(_RateColumn(rate))
    columns.append(TimeRemainingColumn())
    return Progress(
        *columns,
        console=Console(stderr=True),
        disable=not (enabled and sys.stderr.isatty()),
        transient=True,
    )
