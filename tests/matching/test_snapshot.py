"""Index snapshots: a restart loads the snapshot and follows the log tail; a damaged or foreign
snapshot is never trusted."""

from __future__ import annotations

from pathlib import Path

from bank_helpers import pdq, random_pdq
from shieldwall.banks import add_entry, withdraw
from shieldwall.config import Settings
from shieldwall.matching import Matcher, load_index, snapshot_path
from shieldwall.store import Database


def test_restart_loads_snapshot_and_follows_the_tail(banks: Database, tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    old, new = random_pdq(1), random_pdq(2)
    add_entry(banks, "ncii", [pdq(old)], external_ids=["old"])
    first = Matcher.open(banks, settings=settings)
    # Built from the database, saved at once (the next worker starts from it), read back.
    assert first.snapshot is not None and first.snapshot.exists()
    assert not first.checkpoint()  # nothing new since
    add_entry(banks, "ncii", [pdq(new)], external_ids=["new"])
    withdraw(banks, "old")
    second = Matcher.open(banks, settings=settings)
    assert second.match("a", [pdq(new)]).matched
    assert not second.match("b", [pdq(old)]).matched
    _, loaded = load_index(banks, snapshot_path(banks, settings.data_dir))
    assert loaded


def test_damaged_snapshot_is_rebuilt(banks: Database, tmp_path: Path) -> None:
    settings = Settings.load(data_dir=tmp_path / "data")
    value = random_pdq(1)
    add_entry(banks, "ncii", [pdq(value)])
    Matcher.open(banks, settings=settings).checkpoint()
    path = snapshot_path(banks, settings.data_dir)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a torn write
    index, loaded = load_index(banks, path)
    assert not loaded and len(index) == 1
    assert Matcher.open(banks, settings=settings).match("a", [pdq(value)]).matched


def test_snapshots_are_named_by_database(banks: Database, tmp_path: Path) -> None:
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    assert snapshot_path(banks, tmp_path) != snapshot_path(other, tmp_path)
    assert snapshot_path(banks, tmp_path) == snapshot_path(banks, tmp_path)
    other.dispose()


def test_a_snapshot_of_an_older_format_is_rebuilt_not_followed(
    banks: Database, tmp_path: Path
) -> None:
    """Before format 3 a snapshot left out the log's video MD5s (now ``md5`` entries), so one
    is rebuilt from the live signals rather than followed from its seq."""
    import shutil

    for k in range(400):  # a log head past the old fixture's seq (383)
        add_entry(banks, "ncii", [pdq(random_pdq(1000 + k))])
    path = snapshot_path(banks, tmp_path)
    path.parent.mkdir(parents=True)
    shutil.copyfile(Path(__file__).parents[1] / "data" / "index-v1.swidx", path)
    index, loaded = load_index(banks, path)
    assert not loaded
    assert len(index) == 400
