"""exchange.case_cursor: the stored matches an exchange's bank has opened cases for

Revision ID: 0016_exchange_gaps
Revises: 0015_victim_sharing
Create Date: 2026-12-03

A match on a bank an exchange feeds opens a case (``kind`` ``match``): in the restricted
child-safety queue for an exchange that declares itself restricted (NCMEC), decided by the
system for an exact match on a partner trusted with ``auto_remove``, else open for a person.
The cursor is the last match id read, advanced in the transaction that opens the cases.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_exchange_gaps"
down_revision = "0015_victim_sharing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("case_cursor", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange", schema=None) as batch_op:
        batch_op.drop_column("case_cursor")
