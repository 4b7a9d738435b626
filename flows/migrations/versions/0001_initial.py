"""Conversations, processed message ids, transcript, claims, misses and turn outcomes.

Revision ID: 0001
Revises:
Create Date: 2026-11-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in flows.storage_sql: a migration must not change when the
# application's table definitions do.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_At = sa.DateTime(timezone=True)


def _conversation_fk() -> sa.Column[int]:
    return sa.Column(
        "conversation_id",
        _Id,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", _At, nullable=False),
        sa.Column("updated_at", _At, nullable=False),
        sa.UniqueConstraint("channel", "chat_id", "user_id", name="uq_conversations_key"),
    )
    op.create_index("ix_conversations_user", "conversations", ["channel", "user_id"])
    op.create_table(
        "processed_messages",
        _conversation_fk(),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("at", _At, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "message_id", name="pk_processed_messages"),
    )
    op.create_table(
        "transcript",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("at", _At, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_transcript_conversation", "transcript", ["conversation_id", "id"])
    op.create_table(
        "claims",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("policy_year", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=False),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("masked_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_claims_year_hash", "claims", ["policy_year", "id_hash"])
    op.create_index("ix_claims_conversation", "claims", ["conversation_id"])
    op.create_table(
        "misses",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("at", _At, nullable=False),
    )
    op.create_index("ix_misses_at", "misses", ["at"])
    op.create_table(
        "turn_outcomes",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("at", _At, nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("clarifications", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("flows", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("turn_outcomes", "misses", "claims", "transcript", "processed_messages"):
        op.drop_table(table)
    op.drop_table("conversations")
