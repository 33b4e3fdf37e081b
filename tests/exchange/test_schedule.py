"""Syncs run on the worker on a schedule: each sync job syncs and queues the next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fake_stopncii import serve
from shieldwall.banks import get_bank
from shieldwall.config import Settings
from shieldwall.exchange import SYNC_JOB, RemoteSignal, add_exchange, get_exchange, remove_exchange
from shieldwall.exchange.contract import pdq_value
from shieldwall.jobs import JobState, list_jobs
from shieldwall.store import Database, utcnow
from shieldwall.worker import default_worker


def test_the_worker_syncs_and_keeps_the_schedule(db: Database, tmp_path: Path) -> None:
    fake = serve([(RemoteSignal("ImagePDQ", pdq_value(1)), ("c1",))])
    settings = Settings(data_dir=tmp_path, outbound_allowed_networks=["127.0.0.0/8"])
    assert fake.server is not None
    with fake.server:
        add_exchange(
            db,
            "stopncii",
            "stopncii",
            settings=fake.settings(),
            interval_seconds=600,
            config=settings,
        )
        worker = default_worker(db, settings=settings, kinds=[SYNC_JOB])
        started = utcnow()
        job = worker.run_once()
        assert job is not None and job.kind == SYNC_JOB
    assert get_bank(db, "stopncii").live_signals == 1
    jobs = list_jobs(db, kind=SYNC_JOB)
    assert [j.state for j in jobs] == [JobState.DONE, JobState.QUEUED]
    assert jobs[1].run_after >= started + timedelta(seconds=600)
    assert worker.run_once() is None  # not due yet
    assert get_exchange(db, "stopncii").last_success_at is not None


def test_a_failing_exchange_is_retried_after_its_backoff(db: Database, tmp_path: Path) -> None:
    fake = serve()
    settings = Settings(data_dir=tmp_path, outbound_allowed_networks=["127.0.0.0/8"])
    assert fake.server is not None
    with fake.server:
        add_exchange(
            db,
            "stopncii",
            "stopncii",
            settings=fake.settings(),
            interval_seconds=60,
            config=settings,
        )
        fake.fail_next(429, retry_after=3600)
        default_worker(db, settings=settings, kinds=[SYNC_JOB]).run_once()
    info = get_exchange(db, "stopncii")
    assert info.last_error is not None and "429" in info.last_error
    assert info.backoff_until is not None
    queued = list_jobs(db, kind=SYNC_JOB, state="queued")
    assert len(queued) == 1 and queued[0].run_after == info.backoff_until  # what it asked for
    remove_exchange(db, "stopncii")
    assert get_bank(db, "stopncii").name == "stopncii"  # the bank stays
