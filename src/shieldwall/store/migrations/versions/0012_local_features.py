"""local features: a bank may opt into describing its photos by local features

Revision ID: 0012_local_features
Revises: 0011_variants
Create Date: 2026-12-02

Altered copies (issue 13): photos banked with the image at hand into a bank with
``bank.local_features`` also carry an ``orb`` signal (ORB keypoints, kept in
``bank_signal_value``), matched by descriptor candidates and verified geometrically.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_local_features"
down_revision = "0011_variants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "bank",
        sa.Column("local_features", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # Natively (SQLite 3.35+): a batch copy of bank would cascade-delete its entries.
    op.execute("ALTER TABLE bank DROP COLUMN local_features")
