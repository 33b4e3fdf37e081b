"""case_item.automated: decisions made by the system (exact copies of removed content)

Revision ID: 0008_case_automated
Revises: 0007_cases
Create Date: 2026-11-22

A copy task whose content is an exact (md5/sha256) copy of content a person removed is decided
by the system when ``cases_auto_remove_exact_copies`` is on; the column tells those decisions
from people's (statements of reasons, the Transparency Database, the transparency report).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_case_automated"
down_revision = "0007_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("automated", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("case_item", schema=None) as batch_op:
        batch_op.drop_column("automated")
