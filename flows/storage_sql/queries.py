"""Statements the storage's parts share: a conversation found by its key, created when new,
and the figures read from the per-turn outcome rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from flows.keys import SHANGHAI, ConversationKey
from flows.storage import DayFigures, days, utcnow
from flows.storage_sql.schema import conversations, turn_outcomes

Write = Callable[[], AbstractAsyncContextManager[AsyncConnection]]
"""Opens a writing transaction (on SQLite behind the process's one-writer lock)."""


def of_key(key: ConversationKey) -> sa.ColumnElement[bool]:
    return sa.and_(
        conversations.c.channel == key.channel,
        conversations.c.chat_id == key.chat_id,
        conversations.c.user_id == key.user_id,
    )


async def add_conversation(conn: AsyncConnection, key: ConversationKey) -> None:
    """Insert the conversation unless it exists. Another process's first turn may be
    inserting the same key: the INSERT waits for it and then does nothing."""
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    now = utcnow()
    await conn.execute(
        insert(conversations)
        .values(
            channel=key.channel,
            chat_id=key.chat_id,
            user_id=key.user_id,
            state={},
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "chat_id", "user_id"])
    )


async def conversation_id(conn: AsyncConnection, key: ConversationKey) -> int:
    """The conversation's row id, the row created if new (call it while writing)."""
    query = sa.select(conversations.c.id).where(of_key(key))
    found = await conn.scalar(query)
    if found is None:
        await add_conversation(conn, key)
        found = (await conn.execute(query)).scalar_one()
    return int(found)


async def read_stats(conn: AsyncConnection) -> dict[str, int]:
    outcomes = sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(turn_outcomes.c.answers), 0),
        sa.func.coalesce(sa.func.sum(turn_outcomes.c.clarifications), 0),
        sa.func.coalesce(sa.func.sum(turn_outcomes.c.fallbacks), 0),
    ).select_from(turn_outcomes)
    count = await conn.scalar(sa.select(sa.func.count()).select_from(conversations))
    turns, answers, clarifications, fallbacks = (await conn.execute(outcomes)).one()
    return {
        "conversations": int(count or 0),
        "turns": int(turns),
        "answers": int(answers),
        "clarifications": int(clarifications),
        "fallbacks": int(fallbacks),
    }


async def read_figures(conn: AsyncConnection, first: dt.date, last: dt.date) -> list[DayFigures]:
    """Per Shanghai day: the range's rows are selected by their UTC bounds and bucketed
    here, which reads the same on every database (no time zone functions)."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=SHANGHAI)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    t = turn_outcomes.c
    rows = await conn.execute(
        sa.select(
            t.at,
            t.conversation_id,
            t.answers,
            t.clarifications,
            t.fallbacks,
            t.enrollments_started,
            t.enrollments_finished,
        ).where(t.at >= start, t.at < end)
    )
    totals: dict[dt.date, list[int]] = {}
    seen: dict[dt.date, set[int]] = {}
    for row in rows:
        day = row.at.astimezone(SHANGHAI).date()
        sums = totals.setdefault(day, [0] * 6)
        counts = (1, *row[2:])
        totals[day] = [a + int(b) for a, b in zip(sums, counts, strict=True)]
        if row.conversation_id is not None:  # rows kept before 0003 belong to none
            seen.setdefault(day, set()).add(int(row.conversation_id))
    figures = []
    for day in days(first, last):
        turns, answers, clarifications, fallbacks, started, finished = totals.get(day, [0] * 6)
        figures.append(
            DayFigures(
                day=day,
                conversations=len(seen.get(day, ())),
                turns=turns,
                answers=answers,
                clarifications=clarifications,
                fallbacks=fallbacks,
                enrollments_started=started,
                enrollments_finished=finished,
            )
        )
    return figures
