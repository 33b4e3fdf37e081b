"""sign-in: TOTP two-factor, single sign-on accounts, pending sessions, sign-on flows

Revision ID: 0017_signin
Revises: 0016_exchange_gaps
Create Date: 2026-12-03

``person`` gains its TOTP secret (in use once ``totp_enabled_at`` is set), the last time step
accepted (no code twice), whether an admin requires two-factor sign-in of it, the digests of
its recovery codes, and the OpenID Connect issuer and subject of an account that signs in
through the provider. ``login_session.pending`` marks a session whose second factor is still
to come. ``sign_in_flow`` holds a single sign-on in progress (state, nonce, PKCE verifier).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_signin"
down_revision = "0016_exchange_gaps"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("recovery_codes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint("uq_person_oidc", ["oidc_issuer", "oidc_subject"])
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending", sa.String(length=16), nullable=True))
    op.create_table(
        "sign_in_flow",
        sa.Column("id", _ID, nullable=False),
        sa.Column("binding", sa.LargeBinary(length=32), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("binding"),
    )


def downgrade() -> None:
    op.drop_table("sign_in_flow")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_column("pending")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("uq_person_oidc", type_="unique")
        for column in (
            "oidc_subject",
            "oidc_issuer",
            "recovery_codes",
            "totp_required",
            "totp_last_step",
            "totp_enabled_at",
            "totp_secret",
        ):
            batch_op.drop_column(column)
