"""``SqlOutbox``: the files hubao sent, kept in the database for the conversation they were
sent to (every process behind a load balancer can hand them out), for ``FILE_DAYS`` days.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from flows.keys import ConversationKey
from flows.outbox import FILE_DAYS, KeptFile, Outbox, new_file_id
from flows.storage_sql.queries import Write, conversation_id, of_key
from flows.storage_sql.schema import conversations, sent_files


def _oldest(now: dt.datetime) -> dt.datetime:
    """Files sent at or before this have expired."""
    return now - dt.timedelta(days=FILE_DAYS)


class SqlOutbox(Outbox):
    def __init__(self, engine: AsyncEngine, write: Write) -> None:
        self._engine = engine
        self._write = write

    async def keep(self, key: ConversationKey, name: str, data: bytes, at: dt.datetime) -> str:
        file_id = new_file_id()
        async with self._write() as conn:
            # Expired files go in the same transaction: no sweeper process to run.
            await conn.execute(sa.delete(sent_files).where(sent_files.c.at <= _oldest(at)))
            await conn.execute(
                sa.insert(sent_files).values(
                    file_id=file_id,
                    conversation_id=await conversation_id(conn, key),
                    name=name,
                    data=data,
                    at=at,
                )
            )
        return file_id

    async def fetch(self, key: ConversationKey, file_id: str, now: dt.datetime) -> KeptFile | None:
        query = (
            sa.select(sent_files.c.name, sent_files.c.data, sent_files.c.at)
            .join(conversations, conversations.c.id == sent_files.c.conversation_id)
            .where(of_key(key), sent_files.c.file_id == file_id, sent_files.c.at > _oldest(now))
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return KeptFile(file_id, row.name, row.at, bytes(row.data))

    async def listing(self, key: ConversationKey, now: dt.datetime) -> list[KeptFile]:
        query = (
            sa.select(sent_files.c.file_id, sent_files.c.name, sent_files.c.at)
            .join(conversations, conversations.c.id == sent_files.c.conversation_id)
            .where(of_key(key), sent_files.c.at > _oldest(now))
            .order_by(sent_files.c.at, sent_files.c.file_id)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [KeptFile(row.file_id, row.name, row.at) for row in rows]
