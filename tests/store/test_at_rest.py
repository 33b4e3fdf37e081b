"""Hashes protected at rest: bank signal values and index snapshots sealed with keys from a file,
exact lookups that still work on sealed values, key rotation, and what a wrong or missing key
does."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from sqlalchemy import String, select, type_coerce, update

from bank_helpers import flip_bits, random_pdq
from shieldwall.banks import NewEntry, add_entries, create_bank, withdraw
from shieldwall.config import Settings
from shieldwall.errors import ConfigError, SealError
from shieldwall.index import snapshot
from shieldwall.matching import Matcher
from shieldwall.matching.index import load_index, snapshot_path
from shieldwall.signals.base import Signal
from shieldwall.store import Database
from shieldwall.store.models import BankSignal, SignalLogRecord
from shieldwall.store.rekey import key_report, pending_rotation, reseal
from shieldwall.store.sealing import FILE_MAGIC, Keyring, SealedWriter, new_key_line, open_sealed

PDQ = random_pdq(7)
MD5 = "0123456789abcdef0123456789abcdef"


def _ring(*ids: str, path: Path | None = None) -> Keyring:
    text = "".join(new_key_line(i) for i in ids)
    if path is not None:
        path.write_text(text)
    return Keyring.parse(text)


def _raw_values(db: Database) -> list[str]:
    with db.session() as session:
        found = list(session.scalars(select(type_coerce(BankSignal.value, String()))))
        found += session.scalars(select(type_coerce(SignalLogRecord.value, String())))
    return [str(v) for v in found]


def _bank(db: Database) -> None:
    create_bank(db, "ncii", "block")
    entry = NewEntry([Signal("pdq", PDQ, 100), Signal("md5", MD5, None)], external_ids=["case-1"])
    add_entries(db, "ncii", [entry])


def _settings(tmp_path: Path, db: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=db.url.render_as_string(hide_password=False)
    )


def _matched(db: Database, settings: Settings) -> set[str]:
    matcher = Matcher.open(db, settings=settings)
    near = Signal("pdq", flip_bits(PDQ, 6), 100)
    found = {m.signal_type for m in matcher.match("c1", [near], record=False).matches}
    exact = matcher.match("c2", [Signal("md5", MD5, None)], record=False).matches
    return found | {m.signal_type for m in exact}


def test_key_files_are_checked() -> None:
    with pytest.raises(ConfigError, match="line 1: a key is 32 bytes, this one is 3"):
        Keyring.parse("k1 AAAA\n")
    with pytest.raises(ConfigError, match="line 2: expected '<key id> <base64 key>'"):
        Keyring.parse(new_key_line("k1") + "just-one-word\n")
    with pytest.raises(ConfigError, match="appears twice"):
        Keyring.parse(new_key_line("k1") + new_key_line("k1"))
    with pytest.raises(ConfigError, match="no keys"):
        Keyring.parse("# nothing yet\n")


def test_values_are_sealed_and_exact_lookups_still_work(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url, keyring=_ring("k1"))
    _bank(db)
    raw = _raw_values(db)
    assert len(raw) == 4  # two signals, two log entries
    assert all(v.startswith("s1:k1:") for v in raw)
    assert not any(PDQ in v or MD5 in v for v in raw)
    if database_url.startswith("sqlite"):
        db.dispose()
        data = Path(database_url.removeprefix("sqlite:///")).read_bytes()
        wal = Path(database_url.removeprefix("sqlite:///") + "-wal")
        data += wal.read_bytes() if wal.exists() else b""
        assert PDQ.encode() not in data and MD5.encode() not in data

    # Adding the same hash again finds the row by its sealed value (no duplicate).
    again = add_entries(db, "ncii", [NewEntry([Signal("pdq", PDQ, 100)], ["case-2"])])
    assert again.merged == [1] and not again.created
    with db.session() as session:
        assert session.scalars(select(BankSignal.value).order_by(BankSignal.id)).all() == [
            PDQ,
            MD5,
        ]
    settings = _settings(tmp_path, db)
    assert _matched(db, settings) == {"pdq", "md5"}
    withdraw(db, "case-1")
    withdraw(db, "case-2")
    assert _matched(db, settings) == set()
    db.dispose()


def test_snapshots_are_sealed(database_url: str, tmp_path: Path) -> None:
    ring = _ring("k1")
    db = Database(database_url, keyring=ring)
    _bank(db)
    settings = _settings(tmp_path, db)
    matcher = Matcher.open(db, settings=settings)
    assert matcher.checkpoint(min_changes=0)
    path = snapshot_path(db, settings.data_dir)
    data = path.read_bytes()
    assert data.startswith(FILE_MAGIC) and snapshot.MAGIC not in data
    assert bytes.fromhex(PDQ) not in data
    assert snapshot.read(path, ring).seq == 2
    index, loaded = load_index(db, path)
    assert loaded and len(index) == 2

    # Without the key, or with another one, the snapshot is unusable and the index is rebuilt.
    with pytest.raises(Exception, match="no at-rest keys are configured"):
        snapshot.read(path)
    with pytest.raises(Exception, match="sealed with key 'k1', which is not in"):
        snapshot.read(path, _ring("other"))
    cut = tmp_path / "cut.snapshot"
    cut.write_bytes(data[:-10])
    with pytest.raises(Exception, match="truncated"):
        snapshot.read(cut, ring)
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 1
    cut.write_bytes(bytes(changed))
    with pytest.raises(Exception, match="the key is wrong or the file was changed"):
        snapshot.read(cut, ring)
    db.dispose()


def test_a_changed_or_unkeyed_value_is_a_clear_error(database_url: str) -> None:
    db = Database(database_url, keyring=_ring("k1"))
    _bank(db)
    with db.transaction() as session:
        stored = session.scalar(select(type_coerce(BankSignal.value, String())).limit(1))
        assert stored is not None
        broken = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
        session.execute(
            update(BankSignal).where(BankSignal.id == 1).values(value=type_coerce(broken, String()))
        )
    with (
        pytest.raises(SealError, match="the key is wrong or the value was changed"),
        db.session() as session,
    ):
        session.scalars(select(BankSignal.value)).all()
    db.dispose()
    plain = Database(database_url)
    with (
        pytest.raises(SealError, match="no at-rest keys are configured"),
        plain.session() as session,
    ):
        session.scalars(select(BankSignal.value)).all()
    plain.dispose()


def test_rotation_reseals_everything_and_old_keys_read_until_done(
    database_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    old = _ring("k1", path=keys)
    db = Database(database_url, keyring=old)
    _bank(db)
    settings = _settings(tmp_path, db)
    Matcher.open(db, settings=settings).checkpoint(min_changes=0)
    db.dispose()

    keys.write_text(keys.read_text() + new_key_line("k2"))
    both = Keyring.from_file(keys)
    db = Database(database_url, keyring=both)
    assert key_report(db).by_key == {"k1": 4}
    pending = pending_rotation(db)
    assert pending is not None and "sealed with key 'k1', not the current key 'k2'" in pending
    report = reseal(db, settings.data_dir)
    assert pending_rotation(db) is None
    assert report.resealed == 4 and report.by_key == {"k2": 4}
    assert report.files == [snapshot_path(db, settings.data_dir)]
    assert reseal(db, settings.data_dir).resealed == 0  # nothing left to do
    db.dispose()

    only_new = Keyring.parse(keys.read_text().splitlines(keepends=True)[1])
    db = Database(database_url, keyring=only_new)
    index, loaded = load_index(db, snapshot_path(db, settings.data_dir))
    assert loaded and len(index) == 2  # the re-sealed snapshot opens with the new key alone
    assert _matched(db, settings) == {"pdq", "md5"}
    add = add_entries(db, "ncii", [NewEntry([Signal("md5", MD5, None)], ["case-3"])])
    assert add.merged == [1]  # the lookup by value finds the re-sealed row
    db.dispose()


def test_turning_sealing_on_for_plain_values(database_url: str, tmp_path: Path) -> None:
    plain = Database(database_url)
    _bank(plain)
    assert key_report(plain).by_key == {"(plain)": 4}
    assert pending_rotation(plain) is None
    plain.dispose()
    db = Database(database_url, keyring=_ring("k1"))
    assert "holds plain values, not the current key 'k1'" in str(pending_rotation(db))
    assert reseal(db).by_key == {"k1": 4}
    assert _matched(db, _settings(tmp_path, db)) == {"pdq", "md5"}
    db.dispose()
    unkeyed = Database(database_url)
    with pytest.raises(ConfigError, match="no at-rest keys"):
        reseal(unkeyed)
    assert "sealed with key 'k1' and no at-rest keys are configured" in str(
        pending_rotation(unkeyed)
    )
    unkeyed.dispose()


@pytest.mark.parametrize(
    "sizes",
    [[0], [1], [1 << 20], [(1 << 20) + 1], [5, 1 << 20, 3], [3 << 20, 7, (1 << 20) - 7, 10]],
)
def test_sealed_files_round_trip_whatever_the_writes(sizes: list[int]) -> None:
    ring = _ring("k1")
    out = io.BytesIO()
    writer = SealedWriter(out, ring)
    data = b""
    for n in sizes:
        chunk = os.urandom(n)
        data += chunk
        writer.write(chunk)
    writer.close()
    assert writer.tell() == len(data)
    sealed = out.getvalue()
    assert b"".join(open_sealed(io.BytesIO(sealed), ring, "f")) == data
    # Cut at the last chunk boundary: the chunk marked last is missing, and that is noticed.
    chunks = 1 + len(data) // (1 << 20)
    if chunks > 1:
        first = sealed[: len(sealed) - (len(data) % (1 << 20) + 16 + 4)]
        with pytest.raises(SealError, match="truncated"):
            b"".join(open_sealed(io.BytesIO(first), ring, "f"))
