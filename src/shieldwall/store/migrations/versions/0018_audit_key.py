"""audit_event.key_id: the audit chain is keyed (HMAC-SHA-256 with a key kept outside the database)

Revision ID: 0018_audit_key
Revises: 0017_signin
Create Date: 2026-12-03

``key_id`` names the key that made a row's hash (the first 16 hex digits of SHA-256 over
"shieldwall-audit-key-id" and the key): a fingerprint, never the key. Rows written before this
revision keep ``key_id`` NULL and their plain SHA-256 hashes: they cannot be re-keyed without
trusting them as they are, so they stay a legacy prefix of the chain, sealed by the first keyed
row (whose keyed hash covers the legacy head) and by the anchor from then on. An unkeyed row
after a keyed one is what rewriting the chain without the key leaves, and ``audit verify`` says
so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_audit_key"
down_revision = "0017_signin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("key_id")
