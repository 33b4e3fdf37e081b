"""``shieldwall worker``: run background jobs (sweeps, webhook deliveries) until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_OK, app, err_console
from shieldwall.cli._db import open_database

__all__ = ["worker_command"]


@app.command("worker")
def worker_command(
    kinds: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="Run only jobs of this kind (repeatable)."),
    ] = None,
    drain: Annotated[
        bool, typer.Option("--drain", help="Exit once no job is runnable, instead of polling.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every job.")] = False,
) -> None:
    """Run jobs from the database's queue (sweeps, webhook deliveries) until SIGTERM or
    SIGINT; the job in hand is finished before the worker exits. Several workers, on one
    machine or many, may share a queue.
    """
    from shieldwall.jobs import default_worker  # noqa: PLC0415 (loaded when used)

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    worker = default_worker(open_database(), kinds=kinds)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        err_console.print(
            f"{signal.Signals(signum).name}: finishing the job in hand, then stopping",
            highlight=False,
        )
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        err_console.print(
            f"worker {worker.worker_id} running {', '.join(worker.kinds)}", highlight=False
        )
        ran = worker.run(stop, drain=drain)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    err_console.print(f"worker stopped after {ran} jobs", highlight=False)
    raise typer.Exit(EXIT_OK)
