"""The job queue: claims are exclusive (also under concurrency, SQLite and PostgreSQL),
failures are retried with backoff and then dead-lettered, expired leases are reclaimed, and a
worker stops gracefully."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

import pytest

from shieldwall.config import Settings
from shieldwall.errors import Conflict, NotFound, UsageError
from shieldwall.jobs import (
    Job,
    JobState,
    Worker,
    backoff_delay,
    claim,
    complete,
    enqueue,
    fail,
    get_job,
    list_jobs,
    queue_depth,
    requeue,
)
from shieldwall.store import Database, utcnow

FAST = Settings.load(
    job_backoff_seconds=0.01,
    job_backoff_max_seconds=0.05,
    job_lease_seconds=30,
    worker_poll_seconds=0.02,
)


def test_enqueue_claim_complete(db: Database) -> None:
    first = enqueue(db, "sweep", {"full": True}, settings=FAST)
    second = enqueue(db, "other", {}, settings=FAST)
    later = enqueue(db, "sweep", {}, run_after=utcnow() + timedelta(hours=1), settings=FAST)
    assert queue_depth(db) == {"queued": 3, "running": 0, "retry": 0, "done": 0, "dead": 0}
    job = claim(db, "w1", ["sweep"], settings=FAST)
    assert job is not None
    assert (job.id, job.kind, job.payload, job.state, job.attempts) == (
        first,
        "sweep",
        {"full": True},
        JobState.RUNNING,
        1,
    )
    assert job.locked_by == "w1"
    assert job.locked_until is not None and job.locked_until > utcnow() + timedelta(seconds=25)
    assert claim(db, "w2", ["sweep"], settings=FAST) is None  # the other is not due yet
    assert claim(db, "w2", [], settings=FAST) is None
    with pytest.raises(Conflict, match="not held by w2"):
        complete(db, first, "w2")
    complete(db, first, "w1")
    done = get_job(db, first)
    assert done.state is JobState.DONE and done.finished_at is not None
    other = claim(db, "w2", settings=FAST)
    assert other is not None and other.id == second
    assert queue_depth(db) == {"queued": 1, "running": 1, "retry": 0, "done": 1, "dead": 0}
    assert [j.id for j in list_jobs(db, state="queued")] == [later]
    with pytest.raises(NotFound):
        get_job(db, 999)
    with pytest.raises(UsageError):
        enqueue(db, "", {}, settings=FAST)
    with pytest.raises(UsageError):
        enqueue(db, "x", {}, max_attempts=0, settings=FAST)


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 8):
        delays = [backoff_delay(attempt, base=2, cap=60, rng=rng) for _ in range(200)]
        full = min(60, 2 * 2 ** (attempt - 1))
        assert all(full / 2 <= d < full for d in delays)
        assert max(delays) - min(delays) > full / 4  # jitter spreads retries out
    assert backoff_delay(500, base=2, cap=60, rng=rng) < 60


def test_failures_are_retried_after_a_backoff_then_dead_lettered(db: Database) -> None:
    settings = Settings.load(job_backoff_seconds=100, job_backoff_max_seconds=1000)
    job_id = enqueue(db, "flaky", {}, max_attempts=3, settings=settings)
    runs = []
    now = utcnow()
    for attempt in range(1, 4):
        job = claim(db, "w", settings=settings, now=now)
        assert job is not None and job.attempts == attempt
        runs.append(job.id)
        failed_at = utcnow()
        state = fail(db, job_id, "w", f"boom {attempt}", settings=settings)
        after = get_job(db, job_id)
        if attempt < 3:
            assert state is JobState.RETRY
            delay = (after.run_after - failed_at).total_seconds()
            base = 100 * 2 ** (attempt - 1)
            assert base / 2 <= delay <= base + 1
            assert claim(db, "w", settings=settings, now=now) is None  # not before the backoff
            now = after.run_after + timedelta(seconds=1)
        else:
            assert state is JobState.DEAD
    dead = get_job(db, job_id)
    assert (dead.state, dead.attempts, dead.last_error) == (JobState.DEAD, 3, "boom 3")
    assert runs == [job_id] * 3
    assert claim(db, "w", settings=settings, now=now + timedelta(days=1)) is None
    assert queue_depth(db)["dead"] == 1
    assert [j.id for j in list_jobs(db, state=JobState.DEAD)] == [job_id]
    requeue(db, job_id)
    assert get_job(db, job_id).state is JobState.QUEUED
    with pytest.raises(Conflict):
        requeue(db, job_id)


def test_permanent_failure_is_dead_at_once(db: Database) -> None:
    job_id = enqueue(db, "x", {}, settings=FAST)
    assert claim(db, "w", settings=FAST) is not None
    assert fail(db, job_id, "w", "bad payload", retry=False, settings=FAST) is JobState.DEAD


def test_expired_lease_is_reclaimed(db: Database) -> None:
    job_id = enqueue(db, "x", {}, max_attempts=2, settings=FAST)
    start = utcnow()
    assert claim(db, "dies", lease_seconds=10, now=start, settings=FAST) is not None
    assert claim(db, "other", now=start + timedelta(seconds=9), settings=FAST) is None
    taken = claim(db, "other", now=start + timedelta(seconds=11), settings=FAST)
    assert taken is not None and taken.id == job_id and taken.attempts == 2
    assert taken.last_error is not None and "lease expired" in taken.last_error
    with pytest.raises(Conflict, match="lease expired"):
        complete(db, job_id, "dies")  # the first worker woke up too late
    # the second worker dies too, on the last attempt: dead-lettered, not retried forever
    assert claim(db, "third", now=start + timedelta(days=1), settings=FAST) is None
    assert get_job(db, job_id).state is JobState.DEAD


def test_concurrent_claims_never_share_a_job(database_url: str, db: Database) -> None:
    ids = {enqueue(db, "x", {"n": n}, settings=FAST) for n in range(60)}
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def claimer(name: str) -> None:
        own = Database(database_url, migrate=False)
        try:
            barrier.wait()
            while (job := claim(own, name, settings=FAST)) is not None:
                with lock:
                    claimed.append(job.id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(claimed) == sorted(ids)  # every job claimed exactly once
    assert queue_depth(db)["running"] == 60


def test_two_workers_run_every_job_once(database_url: str, db: Database) -> None:
    ids = {enqueue(db, "count", {}, settings=FAST) for _ in range(40)}
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def handler(_db: Database, job: Job) -> None:
        with lock:
            seen.append((job.id, job.locked_by or ""))
        time.sleep(0.001)

    workers = [
        Worker(Database(database_url, migrate=False), worker_id=f"w{i}", settings=FAST)
        for i in range(2)
    ]
    for w in workers:
        w.register("count", handler)
    stop = threading.Event()
    threads = [
        threading.Thread(target=w.run, args=(stop,), kwargs={"drain": True}) for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:
        w.db.dispose()
    assert sorted(i for i, _ in seen) == sorted(ids)
    assert queue_depth(db)["done"] == 40


def test_worker_retries_then_dead_letters(db: Database) -> None:
    calls: list[int] = []

    def broken(_db: Database, job: Job) -> None:
        calls.append(job.attempts)
        raise RuntimeError("receiver on fire")

    job_id = enqueue(db, "broken", {}, max_attempts=3, settings=FAST)
    worker = Worker(db, settings=FAST, handlers={"broken": broken})
    deadline = time.monotonic() + 120
    while get_job(db, job_id).state is not JobState.DEAD and time.monotonic() < deadline:
        if worker.run_once() is None:
            time.sleep(0.02)
    dead = get_job(db, job_id)
    assert dead.state is JobState.DEAD
    assert calls == [1, 2, 3]
    assert dead.last_error == "RuntimeError('receiver on fire')"


def test_worker_keeps_its_lease_while_a_long_job_runs(db: Database) -> None:
    # The lease is short enough that the test runs past it, long enough (a renewal every
    # 2/3 s) that a loaded machine does not starve the heartbeat.
    settings = Settings.load(job_lease_seconds=2.0, worker_poll_seconds=0.02)
    job_id = enqueue(db, "long", {}, settings=settings)
    leases: list[datetime | None] = []
    stolen: list[Job | None] = []

    def long_job(_db: Database, job: Job) -> None:
        first = job.locked_until  # the lease the claim took
        assert first is not None
        while utcnow() < first + timedelta(seconds=0.2):  # until that lease is over
            time.sleep(0.1)
            stolen.append(claim(db, "thief", settings=settings))
        leases.append(get_job(db, job.id).locked_until)
        leases.append(first)

    worker = Worker(db, worker_id="holder", settings=settings, handlers={"long": long_job})
    assert worker.run_once() is not None
    renewed, first = leases
    assert renewed is not None and first is not None and renewed > first  # the heartbeat's
    assert stolen and stolen == [None] * len(stolen)  # never taken over, past its first lease
    assert get_job(db, job_id).state is JobState.DONE


def test_worker_stops_gracefully_finishing_the_job_in_hand(db: Database) -> None:
    first = enqueue(db, "slow", {}, settings=FAST)
    second = enqueue(db, "slow", {}, settings=FAST)
    started, release = threading.Event(), threading.Event()

    def slow(_db: Database, job: Job) -> None:
        started.set()
        release.wait(120)

    worker = Worker(db, settings=FAST, handlers={"slow": slow})
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    assert started.wait(120)
    stop.set()  # as SIGTERM does
    thread.join(timeout=0.3)
    assert thread.is_alive()  # still finishing the job in hand
    release.set()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert get_job(db, first).state is JobState.DONE
    assert get_job(db, second).state is JobState.QUEUED  # not started after the stop
