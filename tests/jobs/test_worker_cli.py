"""``shieldwall worker``: runs the built-in jobs, and exits cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shieldwall.cli import run
from shieldwall.jobs import JobState, enqueue, get_job
from shieldwall.store import Database


def test_drain_runs_the_queued_sweep(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(cli_env)
    job_id = enqueue(db, "sweep", {})
    assert run(["worker", "--drain"]) == 0
    assert get_job(db, job_id).state is JobState.DONE
    assert "stopped after 1 jobs" in capsys.readouterr().err
    assert run(["worker", "--kind", "nope", "--drain"]) == 2
    assert "unknown job kind(s) nope" in capsys.readouterr().err
    db.dispose()


def test_sigterm_stops_the_worker(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    job_id = enqueue(db, "sweep", {})
    env = {
        **os.environ,
        "SHIELDWALL_DATABASE_URL": database_url,
        "SHIELDWALL_DATA_DIR": str(tmp_path / "data"),
        "SHIELDWALL_WORKER_POLL_SECONDS": "0.05",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "shieldwall", "worker", "-v"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while get_job(db, job_id).state is not JobState.DONE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert get_job(db, job_id).state is JobState.DONE
        assert proc.poll() is None  # idle, polling
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        db.dispose()
    assert proc.returncode == 0, err
    assert "SIGTERM: finishing the job in hand, then stopping" in err
    assert "stopped after 1 jobs" in err


def test_jobs_commands(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from shieldwall.jobs import claim, fail

    assert run(["jobs", "enqueue", "sweep", "--payload", '{"full": true}']) == 0
    assert capsys.readouterr().out.strip() == "job 1 queued"
    assert run(["jobs", "enqueue", "cases.email"]) == 0
    assert run(["jobs", "enqueue", "sweep", "-p", "[1]"]) == 2
    assert "JSON object" in capsys.readouterr().err
    assert run(["jobs", "enqueue", "swep"]) == 2  # no worker runs it: it would wait for ever
    err = capsys.readouterr().err
    assert "unknown job kind 'swep'" in err and "sweep" in err and "webhook.deliver" in err
    db = Database(cli_env)
    assert claim(db, "w", ["cases.email"]) is not None
    fail(db, 2, "w", "receiver on fire", retry=False)
    assert run(["jobs", "depth", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["dead"] == 1
    assert run(["jobs", "list", "--state", "dead"]) == 0
    assert capsys.readouterr().out.strip() == "2  cases.email  dead  1/8  receiver on fire"
    assert run(["jobs", "list", "-f", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(j["id"], j["state"]) for j in listed] == [(1, "queued"), (2, "dead")]
    assert run(["jobs", "list", "--state", "nope"]) == 2
    assert run(["jobs", "requeue", "2"]) == 0
    assert run(["jobs", "requeue", "2"]) == 1  # not dead any more: a conflict
    assert run(["jobs", "requeue", "99"]) == 1
    assert get_job(db, 2).state is JobState.QUEUED
    db.dispose()
