"""case_item.banking: what a removal banked and from where, or why nothing

Revision ID: 0019_removal_banking
Revises: 0018_audit_key
Create Date: 2026-12-03

A removal banks the content's hashes from the ledger, else from the reviewer's upload or the
platform's preview fetched at decision time (``shieldwall.cases.removal``). The column keeps
where each content's hashes came from, the signal types banked, and for each content that
could not be hashed the reason, so that the case page and the statement of reasons say what
is true. Older removals keep ``NULL`` (they banked from the ledger, or nothing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_removal_banking"
down_revision = "0018_audit_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("banking", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_item", schema=None) as batch_op:
        batch_op.drop_column("banking")
