"""ledger_item.source_stamp: what a backfill hashed, so that a resumed backfill skips it

Revision ID: 0020_backfill_stamp
Revises: 0019_removal_banking
Create Date: 2026-12-03

``shieldwall backfill`` records each item with the stamp of its source (a file's size and
modification time, or the URL it was fetched from); run again, it skips the items whose
content id and stamp are already in the ledger. Items recorded otherwise keep ``NULL``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_backfill_stamp"
down_revision = "0019_removal_banking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_stamp", sa.String(length=2100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_item", schema=None) as batch_op:
        batch_op.drop_column("source_stamp")
