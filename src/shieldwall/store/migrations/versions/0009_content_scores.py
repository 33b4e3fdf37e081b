"""content_score: platforms' detector scores per content id (synthetic, intimate)

Revision ID: 0009_content_scores
Revises: 0008_case_automated
Create Date: 2026-11-22

A platform reports its classifiers' scores (``POST /v1/scores``); a score at or above
``cases_detector_threshold`` is detector evidence for the cases holding the content id.
Reporting a ``(content_id, detector, label)`` again replaces its score.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_content_scores"
down_revision = "0008_case_automated"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "content_score",
        sa.Column("id", _ID, nullable=False),
        sa.Column("content_id", sa.String(length=512), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("content_id", "detector", "label"),
    )
    op.create_index("ix_content_score_content_id", "content_score", ["content_id"])


def downgrade() -> None:
    op.drop_index("ix_content_score_content_id", table_name="content_score")
    op.drop_table("content_score")
