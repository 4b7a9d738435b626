"""Misses belong to the conversation they were asked in (erased with it by /forget); text
kept before the masking caught every way of writing numbers is masked again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from rules.privacy import mask_personal_data

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of the type in flows.storage_sql.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_BATCH = 1000

# Text columns that may hold what people typed: (table, column).
_FREE_TEXT = (("transcript", "text"), ("misses", "question"), ("claims", "unit_name"))


def _mask_again(table_name: str, column_name: str) -> None:
    """Mask the column anew (the masking as it is when this runs: it only ever masks more).
    Keyset pages, so a big transcript is read a thousand rows at a time."""
    table = sa.table(table_name, sa.column("id", _Id), sa.column(column_name, sa.Text()))
    column = table.c[column_name]
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, column).where(table.c.id > last).order_by(table.c.id)
            .limit(_BATCH)
        ).all()  # fmt: skip
        if not rows:
            return
        for row_id, text in rows:
            masked = mask_personal_data(text)
            if masked != text:
                connection.execute(
                    sa.update(table).where(table.c.id == row_id).values({column_name: masked})
                )
        last = rows[-1][0]


def upgrade() -> None:
    # Batch mode: SQLite adds a foreign key only by rebuilding the table.
    with op.batch_alter_table("misses") as batch:
        batch.add_column(sa.Column("conversation_id", _Id, nullable=True))
        batch.create_foreign_key(
            "fk_misses_conversation",
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_misses_conversation", ["conversation_id"])
    for table_name, column_name in _FREE_TEXT:
        _mask_again(table_name, column_name)


def downgrade() -> None:
    with op.batch_alter_table("misses") as batch:
        batch.drop_index("ix_misses_conversation")
        batch.drop_constraint("fk_misses_conversation", type_="foreignkey")
        batch.drop_column("conversation_id")
