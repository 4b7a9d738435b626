"""The tables of the SQL storage (the schema the newest migration creates) and the
timestamp type that keeps every time in UTC whatever the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC, returned aware. A naive datetime is taken as UTC.

    SQLite keeps no time zone, so values are normalized to UTC on the way in."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Row ids: BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(), nullable=False),
    sa.Column("chat_id", sa.String(), nullable=False),
    sa.Column("user_id", sa.String(), nullable=False),
    sa.Column("state", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("channel", "chat_id", "user_id", name="uq_conversations_key"),
    sa.Index("ix_conversations_user", "channel", "user_id"),
)


def _conversation_fk() -> sa.Column[int]:
    return sa.Column(
        "conversation_id",
        _Id,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )


processed_messages = sa.Table(
    "processed_messages",
    metadata,
    _conversation_fk(),
    sa.Column("message_id", sa.String(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("conversation_id", "message_id", name="pk_processed_messages"),
)

transcript = sa.Table(
    "transcript",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    _conversation_fk(),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Index("ix_transcript_conversation", "conversation_id", "id"),
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    _conversation_fk(),
    sa.Column("policy_year", sa.Integer(), nullable=False),
    sa.Column("unit_name", sa.Text(), nullable=False),
    sa.Column("id_hash", sa.String(64), nullable=False),
    sa.Column("masked_id", sa.String(32), nullable=False),
    sa.Index("ix_claims_year_hash", "policy_year", "id_hash"),
    sa.Index("ix_claims_conversation", "conversation_id"),
)

# A miss belongs to the conversation it was asked in, so /forget erases it; rows kept
# before revision 0002 belong to none.
misses_table = sa.Table(
    "misses",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column(
        "conversation_id",
        _Id,
        sa.ForeignKey("conversations.id", ondelete="CASCADE", name="fk_misses_conversation"),
        nullable=True,
    ),
    sa.Index("ix_misses_at", "at"),
    sa.Index("ix_misses_conversation", "conversation_id"),
)

# One row per processed turn: appends never contend, unlike a shared counter row, and the
# counts outlive /forget because they hold nothing personal. ``conversation_id`` (no
# foreign key, so /forget leaves the row) counts distinct conversations per day; rows kept
# before revision 0003 have none, and no enrollments.
turn_outcomes = sa.Table(
    "turn_outcomes",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("answers", sa.Integer(), nullable=False),
    sa.Column("clarifications", sa.Integer(), nullable=False),
    sa.Column("fallbacks", sa.Integer(), nullable=False),
    sa.Column("flows", sa.Integer(), nullable=False),
    sa.Column("conversation_id", _Id, nullable=True),
    sa.Column("enrollments_started", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("enrollments_finished", sa.Integer(), nullable=False, server_default="0"),
    sa.Index("ix_turn_outcomes_at", "at"),
)

# Files sent to a conversation, downloadable again by it alone for FILE_DAYS days.
sent_files = sa.Table(
    "sent_files",
    metadata,
    sa.Column("file_id", sa.String(), primary_key=True),
    _conversation_fk(),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_sent_files_conversation", "conversation_id"),
    sa.Index("ix_sent_files_at", "at"),
)

# The hotline console: accounts, sessions (by the hash of their token, never the token)
# and failed logins for throttling.
staff_accounts = sa.Table(
    "staff_accounts",
    metadata,
    sa.Column("name", sa.String(), primary_key=True),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "name",
        sa.String(),
        sa.ForeignKey("staff_accounts.name", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("expires", UtcDateTime(), nullable=False),
    sa.Index("ix_staff_sessions_expires", "expires"),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_login_failures_subject_at", "subject", "at"),
)
