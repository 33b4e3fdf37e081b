"""The signal log: one increasing sequence number per change, tombstones, reading the tail."""

from __future__ import annotations

from shieldwall.store import Bank, BankEntry, BankSignal, Database, LogOp, signal_log


def test_appends_get_increasing_seq_and_are_read_back_in_order(db: Database) -> None:
    with db.transaction() as session:
        bank = Bank(name="b", kind="block")
        session.add(bank)
        session.flush()
        entry = BankEntry(bank_id=bank.id, provenance="reviewer")
        session.add(entry)
        session.flush()
        signals = [
            BankSignal(bank_id=bank.id, entry_id=entry.id, type="md5", value=f"{i:032x}")
            for i in range(3)
        ]
        session.add_all(signals)
        session.flush()
        signal_log.append(session, LogOp.ADD, signals)
        signal_log.append(session, LogOp.REMOVE, signals[:1])
    with db.session() as session:
        entries = signal_log.read_after(session, 0)
        assert [e.seq for e in entries] == sorted({e.seq for e in entries})
        assert [e.op for e in entries] == [LogOp.ADD] * 3 + [LogOp.REMOVE]
        assert entries[-1].value == entries[0].value  # a tombstone carries what was added
        assert signal_log.head(session) == entries[-1].seq
        assert signal_log.read_after(session, entries[1].seq) == entries[2:]


def test_a_rolled_back_change_leaves_no_log(db: Database) -> None:
    try:
        with db.transaction() as session:
            bank = Bank(name="b", kind="block")
            session.add(bank)
            session.flush()
            entry = BankEntry(bank_id=bank.id, provenance="reviewer")
            session.add(entry)
            session.flush()
            s = BankSignal(bank_id=bank.id, entry_id=entry.id, type="md5", value="0" * 32)
            session.add(s)
            session.flush()
            signal_log.append(session, LogOp.ADD, [s])
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    with db.session() as session:
        assert signal_log.head(session) == 0
