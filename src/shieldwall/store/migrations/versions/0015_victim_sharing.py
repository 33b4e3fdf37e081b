"""victim_share: each hash of a victim case shared through StopNCII, and its withdrawal

Revision ID: 0015_victim_sharing
Revises: 0014_exchanges
Create Date: 2026-12-03

A person who consents to sharing through StopNCII.org has the PDQ and MD5 hashes of their case
submitted by a queued job to the configured StopNCII exchange; ``victim_share`` records, per
hash, what was sent, to which exchange and when, and whether a withdrawal reached it.
``victim_case.stopncii_note`` says why sharing waits (no StopNCII exchange configured).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_victim_sharing"
down_revision = "0014_exchanges"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("victim_case", sa.Column("stopncii_note", sa.Text(), nullable=True))
    op.create_table(
        "victim_share",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("exchange_name", sa.String(length=64), nullable=True),
        sa.Column("shared_at", _TS, nullable=True),
        sa.Column("withdrawn_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["victim_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_victim_share_case_id", "victim_share", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_victim_share_case_id", table_name="victim_share")
    op.drop_table("victim_share")
    with op.batch_alter_table("victim_case") as batch:
        batch.drop_column("stopncii_note")
