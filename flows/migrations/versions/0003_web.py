"""The web channel: files sent (downloadable again by their conversation), the hotline
console's accounts, sessions and failed logins, and per-turn figures that tell
conversations apart and count enrollments started and finished.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in flows.storage_sql.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_At = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Batch mode for SQLite's sake; the counts of older rows read as 0 through the default.
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.add_column(sa.Column("conversation_id", _Id, nullable=True))
        batch.add_column(
            sa.Column("enrollments_started", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("enrollments_finished", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_turn_outcomes_at", ["at"])
    op.create_table(
        "sent_files",
        sa.Column("file_id", sa.String(), primary_key=True),
        sa.Column(
            "conversation_id",
            _Id,
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("at", _At, nullable=False),
    )
    op.create_index("ix_sent_files_conversation", "sent_files", ["conversation_id"])
    op.create_index("ix_sent_files_at", "sent_files", ["at"])
    op.create_table(
        "staff_accounts",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _At, nullable=False),
        sa.Column("updated_at", _At, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "name",
            sa.String(),
            sa.ForeignKey("staff_accounts.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expires", _At, nullable=False),
    )
    op.create_index("ix_staff_sessions_expires", "staff_sessions", ["expires"])
    op.create_table(
        "login_failures",
        sa.Column("id", _Id, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("at", _At, nullable=False),
    )
    op.create_index("ix_login_failures_subject_at", "login_failures", ["subject", "at"])


def downgrade() -> None:
    for table in ("login_failures", "staff_sessions", "staff_accounts", "sent_files"):
        op.drop_table(table)
    with op.batch_alter_table("turn_outcomes") as batch:
        batch.drop_index("ix_turn_outcomes_at")
        batch.drop_column("enrollments_finished")
        batch.drop_column("enrollments_started")
        batch.drop_column("conversation_id")
