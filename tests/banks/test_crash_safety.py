"""``kill -9`` in the middle of a bulk import leaves a consistent database and a recoverable
index; running the import again completes it without duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bank_helpers import random_pdq
from shieldwall.banks import create_bank, get_bank
from shieldwall.config import Settings
from shieldwall.matching import Matcher, build_index, load_index
from shieldwall.store import BankEntry, BankSignal, Database, LogOp, signal_log

COUNT = 30_000


def _live_from_log(db: Database) -> dict[int, str]:
    live: dict[int, str] = {}
    with db.session() as session:
        for entry in signal_log.read_after(session, 0, limit=10 * COUNT):
            if entry.op is LogOp.ADD:
                live[entry.signal_id] = entry.value
            else:
                live.pop(entry.signal_id, None)
    return live


def _check_consistent(db: Database, snapshot: Path) -> int:
    with db.session() as session:
        live = dict(
            session.execute(select(BankSignal.id, BankSignal.value).where(BankSignal.live)).all()
        )
        entries = session.scalar(select(func.count()).select_from(BankEntry)) or 0
        signals = session.scalar(select(func.count()).select_from(BankSignal)) or 0
    assert live == _live_from_log(db)  # the log replays to exactly the live signals
    assert entries == signals  # one signal per record: no entry without its signal
    followed, loaded = load_index(db, snapshot)  # the snapshot from before, plus the log tail
    assert loaded
    for index in (build_index(db), followed):
        assert len(index) == len(live)
        for signal_id, value in list(live.items())[:: max(1, len(live) // 50)]:
            assert signal_id in {h.id for h in index.search("pdq", value, 0)}
    return len(live)


def test_kill_9_during_import(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url)
    create_bank(db, "bulk", "block")
    matcher = Matcher.open(db, settings=Settings.load(data_dir=tmp_path / "data"))
    assert matcher.snapshot is not None and matcher.snapshot.exists()  # saved as it was built
    snapshot = matcher.snapshot
    feed = tmp_path / "feed.jsonl"
    with feed.open("w") as f:
        for i in range(COUNT):
            f.write(json.dumps({"type": "pdq", "value": random_pdq(i), "quality": 90}) + "\n")
    env = {**os.environ, "SHIELDWALL_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "shieldwall", "bank", "import", "bulk", str(feed)]
    log = (tmp_path / "import.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        live = get_bank(db, "bulk").live_signals or 0
        if live >= 1000:
            break
        assert proc.poll() is None, (tmp_path / "import.log").read_text()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    assert proc.returncode == -signal.SIGKILL

    partial = _check_consistent(db, snapshot)
    assert 1000 <= partial < COUNT  # it really was interrupted half-way

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _check_consistent(db, snapshot) == COUNT
    db.dispose()
