"""The suite's own databases (tests/conftest.py): ``db`` is migrated and empty in every test,
although on PostgreSQL it is a schema the previous test used and gave back emptied."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bank_helpers import pdq, random_pdq
from shieldwall.banks import add_entry, create_bank
from shieldwall.store import Base, Database


@pytest.mark.parametrize("turn", [1, 2, 3])
def test_every_test_starts_on_an_empty_migrated_database(db: Database, turn: int) -> None:
    assert db.current_revision() == Database.head_revision()
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.scalar(select(func.count()).select_from(table))
            assert rows == 0, f"{table.name} holds {rows} rows of an earlier test"
    # Ids start at 1, as in a new database; the rows are left for the next turn to not see.
    assert create_bank(db, "ncii", "block").id == 1
    entry = add_entry(db, "ncii", [pdq(random_pdq(turn))], external_ids=[f"case-{turn}"])
    assert entry.id == 1
    db.instance_id()
