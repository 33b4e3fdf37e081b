"""``shieldwall backfill``: a directory tree and a listing file (paths, a URL on a loopback
server, a refused URL) into the ledger, failures listed and the rest going on, matched against
the banks; resumed after a SIGKILL without losing or repeating a batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bank_helpers import photo
from http_helpers import LoopbackServer, Received, answer
from shieldwall.cli import run
from shieldwall.config import get_settings
from shieldwall.store import Database, LedgerItem, LedgerSignal

SRC = Path(__file__).resolve().parents[2] / "src"


def ledger(url: str) -> dict[str, dict[str, str]]:
    """content id -> {signal type: value} of the ledger at ``url``."""
    db = Database(url)
    try:
        with db.session() as session:
            rows = session.execute(
                select(LedgerItem.content_id, LedgerSignal.type, LedgerSignal.value).join(
                    LedgerSignal, LedgerSignal.item_id == LedgerItem.id
                )
            ).all()
    finally:
        db.dispose()
    out: dict[str, dict[str, str]] = {}
    for cid, kind, value in rows:
        out.setdefault(cid, {})[kind] = value
    return out


def allow_fetching(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 (the loopback server) may be fetched; 10.0.0.1 is on the host allow-list but
    its address is private, so the SSRF policy refuses it."""
    monkeypatch.setenv("SHIELDWALL_FETCH_ALLOWED_HOSTS", '["127.0.0.1", "10.0.0.1"]')
    monkeypatch.setenv("SHIELDWALL_OUTBOUND_ALLOWED_NETWORKS", '["127.0.0.1/32"]')
    get_settings.cache_clear()


def test_backfill_directory_and_listing(
    cli_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    allow_fetching(monkeypatch)
    archive = tmp_path / "archive"
    (archive / "2024").mkdir(parents=True)
    photo(archive, "a.jpg", 1)
    photo(archive / "2024", "b.jpg", 2)
    (archive / "2024" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (archive / "notes.txt").write_text("not media: not walked")
    remote_bytes = photo(tmp_path, "remote.jpg", 3).read_bytes()

    def respond(handler: BaseHTTPRequestHandler, request: Received) -> None:
        answer(handler, 200, remote_bytes, {"Content-Type": "image/jpeg"})

    assert run(["bank", "create", "ncii", "--kind", "block"]) == 0
    assert run(["bank", "add", "ncii", str(tmp_path / "remote.jpg")]) == 0
    capsys.readouterr()

    assert run(["backfill", str(archive), "-w", "1", "-f", "json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["total"], report["recorded"], report["skipped"]) == (3, 2, 0)
    assert report["failed"] == [
        {"content_id": "2024/broken.jpg", "reason": "not an image in a supported format"}
    ]
    assert "failed 2024/broken.jpg" in captured.err
    assert set(ledger(cli_env)) == {"a.jpg", "2024/b.jpg"}
    assert set(ledger(cli_env)["a.jpg"]) == {"pdq", "md5", "sha256"}

    with LoopbackServer(respond) as server:
        listing = tmp_path / "listing.tsv"
        listing.write_text(
            "# content id, then a path (from the listing's folder) or a URL\n"
            f"post-1\t{tmp_path / 'remote.jpg'}\n"
            f"post-2\t{server.url('/media/2.jpg')}\n"
            "post-3\thttp://10.0.0.1/media/3.jpg\n"
            "post-4\tgone.jpg\n"
            "a line without a location\n"
            + json.dumps({"content_id": "post-5", "path": "archive/a.jpg"})
            + "\n"
        )
        failures = tmp_path / "failures.jsonl"
        code = run(["backfill", str(listing), "-w", "1", "-f", "json", "--failures", str(failures)])
        assert code == 1
        report = json.loads(capsys.readouterr().out)
        assert (report["total"], report["recorded"]) == (6, 3)
        reasons = {f["content_id"]: f["reason"] for f in report["failed"]}
        assert set(reasons) == {"post-3", "post-4", "listing.tsv:6"}
        assert "private" in reasons["post-3"]  # refused by the SSRF policy, never fetched
        assert "gone.jpg" in reasons["post-4"]
        assert "not 'content_id<TAB>path or URL'" in reasons["listing.tsv:6"]
        assert [json.loads(line)["content_id"] for line in failures.read_text().splitlines()] == [
            f["content_id"] for f in report["failed"]
        ]
        # The banked photo is hosted twice (a path and a URL): both matched, as a sweep's.
        assert set(report["matched"]["matches"]) == {"post-1", "post-2"}
        assert report["matched"]["items_checked"] == 3
        stored = ledger(cli_env)
        assert stored["post-2"] == stored["post-1"]
        assert stored["post-5"] == stored["a.jpg"]
        assert len(server.received) == 1

        # Resumed: what the ledger holds is skipped (no second fetch), the failures tried again.
        assert run(["backfill", str(listing), "-w", "1", "-f", "json"]) == 1
        again = json.loads(capsys.readouterr().out)
        assert (again["recorded"], again["skipped"], len(again["failed"])) == (0, 3, 3)
        assert again["matched"]["items_checked"] == 0
        assert len(server.received) == 1

    # A file changed since it was recorded is hashed again (and matched again).
    photo(archive, "a.jpg", 4)
    os.utime(archive / "a.jpg", ns=(1, 1))
    before = ledger(cli_env)["a.jpg"]
    assert run(["backfill", str(archive), "-w", "2", "-f", "json"]) == 1
    changed = json.loads(capsys.readouterr().out)
    assert (changed["recorded"], changed["skipped"]) == (1, 1)
    assert changed["matched"]["items_checked"] == 1
    assert ledger(cli_env)["a.jpg"] != before


def test_backfill_bad_source(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["backfill", str(tmp_path / "nowhere")]) == 2
    assert "no such directory or listing file" in " ".join(capsys.readouterr().err.split())
    assert ledger(cli_env) == {}


def test_resume_after_sigkill(
    cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill of 60 URLs from a slow loopback server, killed with SIGKILL once a few
    batches are in: whole batches only, and a resumed run records exactly the rest."""
    allow_fetching(monkeypatch)
    content = photo(tmp_path, "p.jpg", 7).read_bytes()

    def slow(handler: BaseHTTPRequestHandler, request: Received) -> None:
        time.sleep(0.05)  # a slow archive: the run is still going when it is killed
        answer(handler, 200, content, {"Content-Type": "image/jpeg"})

    total, batch = 60, 5
    with LoopbackServer(slow) as server:
        listing = tmp_path / "listing.tsv"
        listing.write_text("".join(f"item-{i}\t{server.url(f'/{i}.jpg')}\n" for i in range(total)))
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        command = [sys.executable, "-m", "shieldwall", "backfill", str(listing), "-w", "1"]
        command += ["--batch-size", str(batch), "--no-match"]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if len(ledger(cli_env)) >= 2 * batch:
                    break
                time.sleep(0.05)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            if proc.stderr is not None:
                proc.stderr.close()
        killed = ledger(cli_env)
        assert 2 * batch <= len(killed) < total
        assert len(killed) % batch == 0  # whole batches: one transaction each
        assert all(set(signals) == {"pdq", "md5", "sha256"} for signals in killed.values())

        fetched = len(server.received)
        assert run(["backfill", str(listing), "-w", "1", "--batch-size", str(batch)]) == 0
        resumed = ledger(cli_env)
        assert set(resumed) == {f"item-{i}" for i in range(total)}
        assert {cid: resumed[cid] for cid in killed} == killed
        # Only the items not recorded were fetched again.
        assert len(server.received) - fetched == total - len(killed)
    db = Database(cli_env)
    try:
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(LedgerItem)) == total
    finally:
        db.dispose()
