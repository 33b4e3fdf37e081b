"""victim cases: hashes a person protects from their own device (issue 15)

Revision ID: 0013_victim_cases
Revises: 0012_local_features
Create Date: 2026-12-03

A victim case (``/protect``, ``shieldwall protect``) holds the items a person hashed on their own
device: each item is one bank entry (external id ``<case number>/<item>``) in the bank the
settings name. The PIN is stored as an argon2 hash; no file name, image or thumbnail is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_victim_cases"
down_revision = "0012_local_features"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "victim_case",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("consent_platform", sa.Boolean(), nullable=False),
        sa.Column("consent_stopncii", sa.Boolean(), nullable=False),
        sa.Column("stopncii_state", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("withdrawn_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_number"),
    )
    op.create_table(
        "victim_item",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_id", _ID, nullable=True),
        sa.Column("signal_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("withdrawn_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["victim_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entry_id"], ["bank_entry.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "number"),
    )
    op.create_index("ix_victim_item_case_id", "victim_item", ["case_id"])
    op.create_index("ix_victim_item_entry_id", "victim_item", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_victim_item_entry_id", table_name="victim_item")
    op.drop_index("ix_victim_item_case_id", table_name="victim_item")
    op.drop_table("victim_item")
    op.drop_table("victim_case")
