"""Partial indexes on the quarantined signals and the disabled entries

Revision ID: 0021_matcher_state
Revises: 0020_backfill_stamp
Create Date: 2026-12-03

A matcher verifies its candidates from memory: at each refresh (every
``follow_interval_seconds``) it re-reads what can change about a banked signal without a log
entry, the quarantined signals and the disabled entries. Both are few rows of large tables;
these indexes hold only them, so the reads cost nothing at 10M signals.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_matcher_state"
down_revision = "0020_backfill_stamp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_bank_signal_quarantined",
        "bank_signal",
        ["quarantined_at"],
        sqlite_where=sa.text("quarantined_at IS NOT NULL"),
        postgresql_where=sa.text("quarantined_at IS NOT NULL"),
    )
    op.create_index(
        "ix_bank_entry_disabled",
        "bank_entry",
        ["status"],
        sqlite_where=sa.text("status = 'disabled'"),
        postgresql_where=sa.text("status = 'disabled'"),
    )


def downgrade() -> None:
    op.drop_index("ix_bank_entry_disabled", table_name="bank_entry")
    op.drop_index("ix_bank_signal_quarantined", table_name="bank_signal")
