"""``shieldwall worker``: run background jobs (sweeps, webhook deliveries) until stopped;
``shieldwall jobs ...``: look at the queue and its dead-letter state."""

from __future__ import annotations

import json
import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from shieldwall.cli._app import EXIT_OK, app, err_console
from shieldwall.cli._db import open_database
from shieldwall.cli._output import Format, FormatOption, emit
from shieldwall.errors import UsageError

__all__ = ["jobs_app", "worker_command"]


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
    from shieldwall.custody import check_sealing  # noqa: PLC0415
    from shieldwall.media.budget import return_freed_buffers  # noqa: PLC0415
    from shieldwall.worker import default_worker  # noqa: PLC0415 (loaded when used)

    return_freed_buffers()  # the decode budget bounds resident memory (docs/security.md)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    db = open_database()
    check_sealing(db)  # values sealed with the current key, or none (docs/security.md)
    worker = default_worker(db, kinds=kinds)
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


jobs_app = typer.Typer(
    name="jobs",
    help="The background job queue: depth, listing, the dead-letter state, enqueueing.",
    no_args_is_help=True,
)
app.add_typer(jobs_app)


@jobs_app.command("depth")
def jobs_depth_command(
    fmt: FormatOption = Format.table,
) -> None:
    """How many jobs are in each state (queued, running, retry, done, dead)."""
    from shieldwall.jobs import queue_depth  # noqa: PLC0415 (loaded when used)

    depth = queue_depth(open_database())
    if fmt is not Format.table:
        emit(depth, fmt)
    else:
        typer.echo("  ".join(f"{state} {count}" for state, count in depth.items()))


@jobs_app.command("list")
def jobs_list_command(
    state: Annotated[
        str | None,
        typer.Option("--state", "-s", help="Only jobs in this state (dead: the dead-letter)."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="Only jobs of this kind.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most jobs shown.")] = 100,
    fmt: FormatOption = Format.table,
) -> None:
    """Jobs in id order, with their attempts and last error."""
    from shieldwall.jobs import JobState, list_jobs  # noqa: PLC0415 (loaded when used)

    if state is not None and state not in {s.value for s in JobState}:
        raise UsageError(f"unknown state {state!r}; one of {', '.join(s.value for s in JobState)}")
    jobs = list_jobs(open_database(), state=state, kind=kind, limit=limit)
    if fmt is not Format.table:
        emit(
            (
                [
                    {
                        "id": j.id,
                        "kind": j.kind,
                        "state": j.state.value,
                        "attempts": j.attempts,
                        "max_attempts": j.max_attempts,
                        "run_after": j.run_after.isoformat(),
                        "last_error": j.last_error,
                        "created_at": j.created_at.isoformat(),
                    }
                    for j in jobs
                ]
            ),
            fmt,
        )
        return
    for j in jobs:
        error = f"  {j.last_error}" if j.last_error else ""
        typer.echo(f"{j.id}  {j.kind}  {j.state.value}  {j.attempts}/{j.max_attempts}{error}")


@jobs_app.command("requeue")
def jobs_requeue_command(
    job_id: Annotated[int, typer.Argument(help="A dead job's id.")],
) -> None:
    """Give a dead-lettered job a fresh set of attempts, to run now."""
    from shieldwall.jobs import requeue  # noqa: PLC0415 (loaded when used)

    requeue(open_database(), job_id)
    typer.echo(f"job {job_id} queued again")


@jobs_app.command("enqueue")
def jobs_enqueue_command(
    kind: Annotated[str, typer.Argument(help="The job kind, e.g. sweep.")],
    payload: Annotated[
        str, typer.Option("--payload", "-p", help="The job's payload, a JSON object.")
    ] = "{}",
) -> None:
    """Queue a job (``shieldwall jobs enqueue sweep``: a sweep run by a worker). A kind that no
    worker runs is refused (exit 2), naming the kinds there are: it would wait for ever."""
    from shieldwall.jobs import enqueue  # noqa: PLC0415 (loaded when used)
    from shieldwall.worker import builtin_handlers  # noqa: PLC0415

    known = builtin_handlers()
    if kind not in known:
        raise UsageError(
            f"unknown job kind {kind!r}: no worker runs it; known: {', '.join(sorted(known))}"
        )
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--payload is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError("--payload must be a JSON object")
    typer.echo(f"job {enqueue(open_database(), kind, data)} queued")
