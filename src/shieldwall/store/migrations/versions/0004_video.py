"""video: the frames of banked vpdq signals

Revision ID: 0004_video
Revises: 0003_service
Create Date: 2026-11-22

A vpdq signal's value is one line per frame (megabytes for a long video banked densely), too
long for the ``bank_signal`` unique index: ``bank_signal.value`` and ``signal_log.value`` hold
the SHA-256 of the vpdq text, and the text is kept here, one row per vpdq signal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_video"
down_revision = "0003_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_video",
        sa.Column(
            "signal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("vpdq", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["signal_id"], ["bank_signal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("signal_id"),
    )


def downgrade() -> None:
    op.drop_table("bank_video")
