"""exchange, exchange_feedback, transparency_submission: hash exchanges, their feedback, and
statements sent to the EU Transparency Database

Revision ID: 0014_exchanges
Revises: 0013_victim_cases
Create Date: 2026-12-03

Hash exchange (issue 14): each row of ``exchange`` is one configured exchange (StopNCII, NCMEC,
a partner) with its plug-in kind, settings, the bank it feeds, its checkpoint (advanced in the
same transaction as the records it covers), its counts and its last error. ``exchange_feedback``
queues the feedback owed to an exchange on its hashes (matched, confirmed, rejected), once each.
``transparency_submission`` records each decided case's statement sent to the EU Transparency
Database (its puid, state, answer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_exchanges"
down_revision = "0013_victim_cases"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "exchange",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("bank_id", _ID, nullable=True),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.BigInteger(), nullable=False),
        sa.Column("failed", sa.BigInteger(), nullable=False),
        sa.Column("skipped_types", sa.JSON(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("backoff_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("sync_job_id", sa.BigInteger(), nullable=True),
        sa.Column("match_cursor", sa.BigInteger(), nullable=False),
        sa.Column("decision_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["bank.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "exchange_feedback",
        sa.Column("id", _ID, nullable=False),
        sa.Column("exchange_id", _ID, nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("feedback", sa.String(length=16), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["exchange_id"], ["exchange.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exchange_id", "signal_type", "value", "feedback"),
    )
    op.create_index("ix_exchange_feedback_state", "exchange_feedback", ["exchange_id", "state"])
    op.create_table(
        "transparency_submission",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("puid", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("uuid", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("puid"),
    )


def downgrade() -> None:
    op.drop_table("transparency_submission")
    op.drop_index("ix_exchange_feedback_state", table_name="exchange_feedback")
    op.drop_table("exchange_feedback")
    op.drop_table("exchange")
