"""The threatexchange file format (python-threatexchange's file exchange, HMA's signal
strings) out and back in: ``<type> <value>`` lines with HMA's type names."""

from __future__ import annotations

import io

from bank_helpers import pdq, random_pdq
from shieldwall.banks import (
    BankFormat,
    add_entries,
    add_entry,
    create_bank,
    export_entries,
    get_bank,
    read_entries,
    write_entries,
)
from shieldwall.signals import Signal
from shieldwall.store import Database

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_written_with_hma_names_and_read_back(db: Database) -> None:
    create_bank(db, "ours", "block")
    add_entry(db, "ours", [pdq(random_pdq(1)), Signal("md5", MD5)], external_ids=["c1"])
    out = io.StringIO()
    assert write_entries(export_entries(db, "ours"), out, BankFormat.threatexchange) == 2
    assert out.getvalue().splitlines() == [f"pdq {random_pdq(1)}", f"video_md5 {MD5}"]
    create_bank(db, "theirs", "block")
    text = "# from a partner\n" + out.getvalue() + "not-a-type abc\n"
    outcome = add_entries(
        db, "theirs", read_entries(io.StringIO(text), BankFormat.threatexchange, name="f.txt")
    )
    assert len(outcome.created) == 2
    assert [r.source for r in outcome.rejected] == ["f.txt:4"]
    assert get_bank(db, "theirs").live_signals == 2
