"""variants: bank-side variant signals, the variants a match went through, per-bank opt-out

Revision ID: 0011_variants
Revises: 0010_signal_capabilities
Create Date: 2026-12-02

Altered copies (issue 13): an entry may hold bank-side variants of its photo (crops, made where
the image was at hand), marked in ``bank_signal.variant``; a stored match keeps the query-side
variant and the bank-side variant it went through; a bank may refuse matches through variants
(``bank.match_variants``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_variants"
down_revision = "0010_signal_capabilities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bank_signal", sa.Column("variant", sa.String(length=32), nullable=True))
    op.add_column(
        "bank",
        sa.Column("match_variants", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "match",
        sa.Column("variant", sa.String(length=32), nullable=False, server_default="original"),
    )
    op.add_column("match", sa.Column("bank_variant", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # Natively (SQLite 3.35+): a batch copy of bank or bank_signal would cascade-delete rows.
    op.execute("ALTER TABLE match DROP COLUMN bank_variant")
    op.execute("ALTER TABLE match DROP COLUMN variant")
    op.execute("ALTER TABLE bank DROP COLUMN match_variants")
    op.execute("ALTER TABLE bank_signal DROP COLUMN variant")
