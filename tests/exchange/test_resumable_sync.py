"""``kill -9`` of a sync in the middle loses nothing and duplicates nothing: the checkpoint is
committed with the page it covers, and the next sync carries on from it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import fake_stopncii
from fake_server import FakeServer
from shieldwall.banks import get_bank
from shieldwall.exchange import add_exchange, get_exchange
from shieldwall.exchange.contract import pdq_value
from shieldwall.store import BankEntry, BankSignal, Database, LogOp, signal_log

COUNT = 20_000
PAGE = 250


def _record(i: int) -> dict[str, Any]:
    return {
        "lastModtimestamp": i,
        "signalType": "ImagePDQ",
        "hashValue": pdq_value(i),
        "hashStatus": "Active",
        "caseNumbers": {f"case-{i}": "Active"},
    }


def _state(db: Database) -> tuple[int, int, int]:
    """(entries, signals, live signals replayed from the log)."""
    live: set[int] = set()
    with db.session() as session:
        for entry in signal_log.read_after(session, 0, limit=10 * COUNT):
            if entry.op is LogOp.ADD:
                live.add(entry.signal_id)
            else:
                live.discard(entry.signal_id)
        entries = session.scalar(select(func.count()).select_from(BankEntry)) or 0
        signals = session.scalar(select(func.count()).select_from(BankSignal)) or 0
    return int(entries), int(signals), len(live)


def _committed(db: Database) -> int:
    """Records the stored checkpoint says are applied."""
    checkpoint = get_exchange(db, "feed").checkpoint or {}
    token = checkpoint.get("nextPageToken")
    if token:
        return int(str(token).split(":")[1])
    return COUNT if checkpoint.get("startTimestamp", 1) > COUNT else 0


def test_kill_9_in_the_middle_of_a_sync(database_url: str, tmp_path: Path) -> None:
    fake = fake_stopncii.FakeStopNCII(generated=COUNT, generator=_record, delay=0.01)
    server = FakeServer(fake.respond)
    fake.server = server
    db = Database(database_url)
    with server:
        settings = {**fake.settings(), "page_size": PAGE, "start_timestamp": 1}
        add_exchange(db, "feed", "stopncii", settings=settings, schedule=False)
        env = {
            **os.environ,
            "SHIELDWALL_DATABASE_URL": database_url,
            "SHIELDWALL_DATA_DIR": str(tmp_path / "data"),
            "SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
        }
        cmd = [sys.executable, "-m", "shieldwall", "exchange", "sync", "feed"]
        log = (tmp_path / "sync.log").open("wb")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (get_bank(db, "feed").live_signals or 0) >= 2000:
                break
            assert proc.poll() is None, (tmp_path / "sync.log").read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        log.close()
        assert proc.returncode == -signal.SIGKILL

        entries, signals, live = _state(db)
        assert 2000 <= entries < COUNT  # really interrupted half-way
        assert entries == signals == live == _committed(db)  # the checkpoint covers exactly it
        assert get_exchange(db, "feed").added == entries

        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    assert _state(db) == (COUNT, COUNT, COUNT)
    info = get_exchange(db, "feed")
    assert info.added == COUNT and info.failed == 0
    assert info.checkpoint == {"startTimestamp": COUNT + 1}
    db.dispose()
