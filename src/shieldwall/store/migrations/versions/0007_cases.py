"""notices, their history, cases and appeals (issue 5)

Revision ID: 0007_cases
Revises: 0006_people
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_cases"
down_revision = "0006_people"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notice",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tracking_number", sa.String(length=32), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("trusted_flagger", sa.String(length=200), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=False),
        sa.Column("reporter_email", sa.String(length=320), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("authorised_agent", sa.Boolean(), nullable=False),
        sa.Column("authority_explanation", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("content_ids", sa.JSON(), nullable=False),
        sa.Column("content_kind", sa.String(length=16), nullable=False),
        sa.Column("declarations", sa.JSON(), nullable=False),
        sa.Column("possible_minor", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracking_number"),
    )
    op.create_table(
        "notice_event",
        sa.Column("id", _ID, nullable=False),
        sa.Column("notice_id", _ID, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_event_notice_id", "notice_event", ["notice_id"])
    op.create_table(
        "case_item",
        sa.Column("id", _ID, nullable=False),
        sa.Column("notice_id", _ID, nullable=True),
        sa.Column("tracking_number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", _ID, nullable=True),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("deadline", _TS, nullable=False),
        sa.Column("trusted", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.Integer(), nullable=False),
        sa.Column("content_ids", sa.JSON(), nullable=False),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("ground", sa.String(length=16), nullable=True),
        sa.Column("legal_ground", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("block_entry_id", _ID, nullable=True),
        sa.Column("sweep_job_id", sa.BigInteger(), nullable=True),
        sa.Column("appeal_token_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["parent_id"], ["case_item.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["block_entry_id"], ["bank_entry.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_item_notice_id", "case_item", ["notice_id"])
    op.create_index("ix_case_item_tracking_number", "case_item", ["tracking_number"])
    op.create_index("ix_case_queue_state_deadline", "case_item", ["queue", "state", "deadline"])
    op.create_table(
        "appeal",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("appellant", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_at", _TS, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appeal_case_id", "appeal", ["case_id"])


def downgrade() -> None:
    op.drop_table("appeal")
    op.drop_table("case_item")
    op.drop_table("notice_event")
    op.drop_table("notice")
