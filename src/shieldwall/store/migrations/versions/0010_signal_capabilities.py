"""signal capabilities: one side table for large values, any indexable type in the ledger,
one MD5

Revision ID: 0010_signal_capabilities
Revises: 0009_content_scores
Create Date: 2026-12-02

- ``bank_video`` becomes ``bank_signal_value``: the side table of every signal type stored
  there (its ``bank_signal.value`` is a digest of the value), not of vPDQ alone.
- ``ledger_item.pdq`` moves into ``ledger_signal`` (type ``pdq``, hex value) beside the exact
  hashes, so the ledger keeps any indexable type; an index on ``(type, id)`` lets a sweep
  stream one type's values in order.
- ``video_md5`` is ``md5``: the MD5 of a file's bytes, whatever the content. Stored signals,
  log entries, matches and ledger rows are renamed (a row that would duplicate an ``md5`` row
  of the same bank or item is retired instead).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_signal_capabilities"
down_revision = "0009_content_scores"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _hex(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"encode({column}, 'hex')"
    return f"lower(hex({column}))"


def upgrade() -> None:
    op.create_table(
        "bank_signal_value",
        sa.Column("signal_id", _ID, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["signal_id"], ["bank_signal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("signal_id"),
    )
    op.execute(
        "INSERT INTO bank_signal_value (signal_id, value) SELECT signal_id, vpdq FROM bank_video"
    )
    op.drop_table("bank_video")

    op.execute(
        "INSERT INTO ledger_signal (item_id, type, value) "  # noqa: S608 - no input in it
        f"SELECT id, 'pdq', {_hex('pdq')} FROM ledger_item WHERE pdq IS NOT NULL"
    )
    # Natively (SQLite 3.35+): a batch copy of ledger_item would cascade-delete ledger_signal.
    op.execute("ALTER TABLE ledger_item DROP COLUMN pdq")
    op.create_index("ix_ledger_signal_type_id", "ledger_signal", ["type", "id"])

    # One MD5. A video_md5 row beside an md5 row of the same value retires; the rest rename.
    op.execute(
        "UPDATE bank_signal SET live = false WHERE type = 'video_md5' AND EXISTS ("
        "SELECT 1 FROM bank_signal b2 WHERE b2.bank_id = bank_signal.bank_id "
        "AND b2.type = 'md5' AND b2.value = bank_signal.value)"
    )
    op.execute(
        "UPDATE bank_signal SET type = 'md5' WHERE type = 'video_md5' AND NOT EXISTS ("
        "SELECT 1 FROM bank_signal b2 WHERE b2.bank_id = bank_signal.bank_id "
        "AND b2.type = 'md5' AND b2.value = bank_signal.value)"
    )
    op.execute("UPDATE signal_log SET type = 'md5' WHERE type = 'video_md5'")
    op.execute("UPDATE match SET signal_type = 'md5' WHERE signal_type = 'video_md5'")
    op.execute(
        "DELETE FROM ledger_signal WHERE type = 'video_md5' AND EXISTS ("
        "SELECT 1 FROM ledger_signal l2 WHERE l2.item_id = ledger_signal.item_id "
        "AND l2.type = 'md5')"
    )
    op.execute("UPDATE ledger_signal SET type = 'md5' WHERE type = 'video_md5'")


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_ledger_signal_type_id", table_name="ledger_signal")
    op.add_column("ledger_item", sa.Column("pdq", sa.LargeBinary(length=32), nullable=True))
    rows = bind.execute(sa.text("SELECT item_id, value FROM ledger_signal WHERE type = 'pdq'"))
    pairs = [{"i": item_id, "p": bytes.fromhex(value)} for item_id, value in rows]
    if pairs:
        bind.execute(sa.text("UPDATE ledger_item SET pdq = :p WHERE id = :i"), pairs)
    op.execute("DELETE FROM ledger_signal WHERE type = 'pdq'")
    op.create_table(
        "bank_video",
        sa.Column("signal_id", _ID, nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("vpdq", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["signal_id"], ["bank_signal.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("signal_id"),
    )
    videos = bind.execute(sa.text("SELECT signal_id, value FROM bank_signal_value"))
    rows_out = [{"s": sid, "n": text.count("\n") + 1, "v": text} for sid, text in videos]
    if rows_out:
        bind.execute(
            sa.text("INSERT INTO bank_video (signal_id, frame_count, vpdq) VALUES (:s, :n, :v)"),
            rows_out,
        )
    op.drop_table("bank_signal_value")
    # video_md5 is not brought back: md5 rows stay md5 (the same digest).
