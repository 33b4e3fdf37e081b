"""The Ray engines give what the local ones give: the backfill the same ledger (ids included),
the partitioned sweep the same matches. One small local Ray (2 CPUs) for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bank_helpers import flip_bits, pdq, photo, random_pdq
from shieldwall.banks import NewEntry, add_entries, create_bank
from shieldwall.config import Settings
from shieldwall.matching import add_to_ledger, sweep
from shieldwall.matching.backfill import backfill, hash_locally, walk_directory
from shieldwall.store import Database, LedgerItem, LedgerSignal, MatchRecord

ray = pytest.importorskip("ray")

# Ray 2.60's DataContext warns about its own deprecated defaults when it is first built.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")]

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # The workers import this checkout's shieldwall, as the test process does.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(SRC)}},
    )
    try:
        yield
    finally:
        ray.shutdown()


def rows(db: Database) -> list[tuple[int, str, str | None, str, str]]:
    with db.session() as session:
        return [
            tuple(r)  # type: ignore[misc]
            for r in session.execute(
                select(
                    LedgerItem.id,
                    LedgerItem.content_id,
                    LedgerItem.source_stamp,
                    LedgerSignal.type,
                    LedgerSignal.value,
                )
                .join(LedgerSignal, LedgerSignal.item_id == LedgerItem.id)
                .order_by(LedgerItem.id, LedgerSignal.type)
            )
        ]


def test_ray_backfill_gives_the_local_ledger(local_ray: None, db: Database, tmp_path: Path) -> None:
    from shieldwall.matching.backfill_ray import hash_on_ray

    archive = tmp_path / "archive"
    (archive / "x").mkdir(parents=True)
    for i in range(12):
        photo(archive / ("x" if i % 3 else ""), f"p{i:02}.jpg", 40 + i)
    (archive / "x" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    settings = Settings.load(data_dir=tmp_path / "data")
    local_db = Database(f"sqlite:///{tmp_path / 'local.db'}")
    try:
        local = backfill(
            local_db, walk_directory(archive), engine=hash_locally(1, settings), batch_size=4
        )
        on_ray = backfill(
            db, walk_directory(archive), engine=hash_on_ray(2, settings, window=8), batch_size=4
        )
        assert on_ray.recorded == local.recorded == 12
        assert on_ray.failures == local.failures
        assert [f.content_id for f in on_ray.failures] == ["x/corrupt.png"]
        assert rows(db) == rows(local_db)
        assert len(rows(db)) == 36  # pdq, md5, sha256 of each photo
    finally:
        local_db.dispose()


def test_ray_partitioned_sweep_finds_what_one_process_finds(local_ray: None, db: Database) -> None:
    from shieldwall.matching.backfill_ray import scan_on_ray

    banked = [random_pdq(1000 + k) for k in range(3)]
    hosted = [(f"post-{i}", [pdq(random_pdq(i))]) for i in range(300)]
    copies = {10: flip_bits(banked[0], 5), 150: flip_bits(banked[1], 30), 299: banked[2]}
    for i, value in copies.items():
        hosted[i] = (f"post-{i}", [pdq(value)])
    hosted[200] = ("post-200", [pdq(flip_bits(banked[0], 40))])  # beyond the threshold
    add_to_ledger(db, hosted)
    create_bank(db, "ncii", "block")
    add_entries(db, "ncii", [NewEntry([pdq(v)]) for v in banked])
    settings = Settings.load(flood_max_contents=1000)

    on_ray = sweep(db, settings=settings, partitions=5, runner=scan_on_ray, chunk_rows=40)
    assert on_ray.ledger_scanned == 300
    assert set(on_ray.matches) == {f"post-{i}" for i in copies}
    local = sweep(db, settings=settings, full=True, partitions=3, chunk_rows=40)
    assert local.ledger_scanned == 300
    assert set(local.matches) == set(on_ray.matches)
    with db.session() as session:
        stored = session.execute(select(MatchRecord.content_id, MatchRecord.distance)).all()
    # Stored once, by the Ray sweep; the local one found the same and stored nothing twice.
    assert sorted(stored) == [("post-10", 5), ("post-150", 30), ("post-299", 0)]
