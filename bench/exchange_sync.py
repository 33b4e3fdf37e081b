"""A StopNCII sync of many records into a bank: records/s and peak memory, against a plain bulk
import of the same records from a file (``bank import``'s path) measured in the same run.

The fake StopNCII server (tests/fake_stopncii.py, the one the tests use) runs in a process of
its own and makes its records on demand, so the figures are the syncing process's alone: the
HTTP requests (StopNCII's default page of 800 records), JSON parsing, signal-type mapping,
the bank's bulk insert and the checkpoint committed with each page.

    python bench/exchange_sync.py --records 1000000
    python bench/exchange_sync.py --records 100000 --no-write     # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _report import write_section
from shieldwall.banks import (
    BankFormat,
    Provenance,
    add_entries,
    create_bank,
    get_bank,
    read_entries,
)
from shieldwall.exchange import add_exchange, get_exchange, sync_exchange
from shieldwall.exchange.contract import loopback_context, pdq_value
from shieldwall.store import Database


def _record(i: int) -> dict[str, Any]:
    return {
        "lastModtimestamp": i,
        "signalType": "ImagePDQ" if i % 10 else "VideoMD5",
        "hashValue": pdq_value(i) if i % 10 else pdq_value(i)[:32],
        "hashStatus": "Active",
        "caseNumbers": {f"case-{i}": "Active"},
        "CSPFeedbacks": [],
    }


def _serve(count: int, port_out: Any) -> None:
    from fake_server import FakeServer  # noqa: PLC0415
    from fake_stopncii import FakeStopNCII  # noqa: PLC0415

    fake = FakeStopNCII(generated=count, generator=_record)
    server = FakeServer(fake.respond)
    fake.server = server
    with server:
        port_out.put(fake.settings())
        while True:
            time.sleep(3600)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=800, help="StopNCII's default: 800")
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--no-baseline", action="store_true", help="skip the file import")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="exchange-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'sync.db'}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.records, queue), daemon=True)
    server.start()
    settings = queue.get(timeout=60)
    settings.update({"page_size": args.page_size, "start_timestamp": 1})

    db = Database(url)
    add_exchange(db, "stopncii", "stopncii", settings=settings, schedule=False)
    start_rss = _peak_mib()
    started = time.perf_counter()
    report = sync_exchange(db, "stopncii", context=loopback_context(timeout_seconds=300))
    elapsed = time.perf_counter() - started
    sync_peak = _peak_mib()
    server.terminate()
    assert report.ok, report.error
    info = get_exchange(db, "stopncii")
    live = get_bank(db, "stopncii").live_signals
    assert info.added == args.records == live, (info.added, live)
    rate = args.records / elapsed

    baseline = ""
    if not args.no_baseline:
        feed = folder / "feed.jsonl"
        with feed.open("w") as f:
            for i in range(1, args.records + 1):
                f.write(json.dumps(_record(i)) + "\n")
        other = Database(f"sqlite:///{folder / 'import.db'}") if not args.database_url else db
        create_bank(other, "imported", "block")
        started = time.perf_counter()
        with feed.open() as stream:
            outcome = add_entries(
                other,
                "imported",
                read_entries(stream, BankFormat.jsonl, provenance=Provenance.PARTNER),
            )
        import_elapsed = time.perf_counter() - started
        assert len(outcome.created) == args.records
        import_rate = args.records / import_elapsed
        baseline = (
            f"| bulk import of the same records from a JSON-lines file (`bank import`) | "
            f"{import_elapsed:.1f} s | {import_rate:,.0f} | 1.00 |\n"
        )
    ratio = "" if not baseline else f"{rate / import_rate:.2f}"
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    body = f"""## Exchange sync: StopNCII into a bank (issue 14)

{args.records:,} StopNCII hash records (nine in ten `ImagePDQ`, one in ten `VideoMD5`, one case
each) fetched from the fake StopNCII server on loopback (a process of its own) in pages of
{args.page_size} (`nextPageToken`), mapped through the signal-type capabilities and banked, each
page committed with its checkpoint; {backend}.

| run | time | records/s | vs file import |
|---|---:|---:|---:|
| `exchange sync` from the fake StopNCII | {elapsed:.1f} s | {rate:,.0f} | {ratio or "-"} |
{baseline}
Peak memory (RSS) of the syncing process: {sync_peak:,.0f} MiB ({start_rss:,.0f} MiB before the
sync: the sync holds one page at a time, so memory does not grow with the feed).
"""
    print(body)
    if not args.no_write:
        write_section(
            "exchange_sync", body, f"python bench/exchange_sync.py --records {args.records}"
        )


if __name__ == "__main__":
    main()
