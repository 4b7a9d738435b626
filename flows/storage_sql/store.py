"""``SqlStorage``: the storage port on a SQL database, a turn in one transaction (see the
package docstring for how turns are serialized).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from faq.misses import Miss
from flows.storage import (
    ConversationKey,
    ConversationState,
    DayFigures,
    PersonClaim,
    Storage,
    TranscriptLine,
    Turn,
    utcnow,
)
from flows.storage_sql.outbox import SqlOutbox
from flows.storage_sql.queries import (
    add_conversation,
    of_key,
    read_figures,
    read_stats,
)
from flows.storage_sql.schema import (
    claims,
    conversations,
    misses_table,
    processed_messages,
    sent_files,
    transcript,
    turn_outcomes,
)
from flows.storage_sql.setup import (
    BEGIN_MODE,
    SQLITE_BUSY_TIMEOUT,
    KeyLocks,
    async_url,
    private_sqlite_file,
    take_over_sqlite_transactions,
    upgrade_head,
)
from flows.storage_sql.staff import SqlStaffStore
from rules.privacy import mask_personal_data

# Advisory lock ids (classid, objid) on PostgreSQL; the classid keeps them apart from
# locks other applications sharing the database might take.
LOCK_CLASS = 0x4842  # "HB"
MIGRATION_LOCK = 0
CLAIMS_LOCK_BASE = 1  # + policy year
# SQLite caps bound parameters per statement; keep IN lists well below it.
IN_CHUNK = 500


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


class SqlStorage(Storage):
    """Conversations in a SQL database; see the module docstring for the locking."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self._sqlite = self.url.get_backend_name() == "sqlite"
        serializer = functools.partial(json.dumps, ensure_ascii=False)
        if self._sqlite:
            assert self.url.database is not None
            private_sqlite_file(Path(self.url.database))
            self._engine = create_async_engine(
                self.url,
                echo=echo,
                json_serializer=serializer,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT},
            )
            take_over_sqlite_transactions(self._engine)
        else:
            self._engine = create_async_engine(
                self.url, echo=echo, json_serializer=serializer, pool_pre_ping=True
            )
        self._keys = KeyLocks()
        # SQLite has one writer: queueing writers here beats polling on the file lock.
        self._writer: AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self._sqlite else contextlib.nullcontext()
        )
        self.outbox = SqlOutbox(self._engine, self._write)
        self.staff = SqlStaffStore(self._engine, self._write)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a writing transaction, committed on a clean exit."""
        async with self._writer, self._engine.connect() as conn:
            if self._sqlite:
                await conn.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``).

        Safe when several processes start at once: the upgrade runs under a lock."""
        async with self._write() as conn:
            if not self._sqlite:
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASS, MIGRATION_LOCK))
                )
            await conn.run_sync(upgrade_head)
        if self._sqlite:
            await self._use_wal()

    async def _use_wal(self) -> None:
        """Put the SQLite file in WAL mode (kept in the file), so readers go on beside the
        writer. Retried: the switch fails at once while another process uses the file."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_BUSY_TIMEOUT
        while True:
            try:
                async with self._writer, self._engine.connect() as conn:
                    await conn.execution_options(**{BEGIN_MODE: ""})
                    await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                    return
            except sa.exc.OperationalError:
                if loop.time() > deadline:
                    raise
            await asyncio.sleep(0.05)

    # --- turns ---------------------------------------------------------------------------

    def turn(
        self, key: ConversationKey, message_id: str | None
    ) -> AbstractAsyncContextManager[Turn]:
        return self._turn(key, message_id)

    @asynccontextmanager
    async def _turn(self, key: ConversationKey, message_id: str | None) -> AsyncIterator[Turn]:
        async with self._keys.hold(key), self._write() as conn:
            conversation_id, state, duplicate = await self._open(conn, key, message_id)

            async def finder(year: int, hashes: list[str]) -> list[tuple[str, str]]:
                return await self._find_conflicts(conn, conversation_id, year, hashes)

            turn = Turn(key, ConversationState.from_json(state), duplicate, finder)
            yield turn
            if duplicate:
                await conn.rollback()
                return
            await self._save(conn, conversation_id, message_id, turn)

    async def _open(
        self, conn: AsyncConnection, key: ConversationKey, message_id: str | None
    ) -> tuple[int, dict[str, Any], bool]:
        """Lock the conversation row (creating it if new), load its state, and tell
        whether ``message_id`` was processed before."""
        query = (
            sa.select(conversations.c.id, conversations.c.state)
            .where(of_key(key))
            .with_for_update()
        )
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            # The SELECT ... FOR UPDATE then locks the row, whoever inserted it.
            await add_conversation(conn, key)
            row = (await conn.execute(query)).one()
        conversation_id = int(row.id)
        # A statement of its own, after the lock: PostgreSQL re-reads only the locked row
        # after waiting, so a check inside the locking SELECT would miss the message id the
        # turn we waited for has just committed.
        seen = message_id is not None and bool(
            await conn.scalar(
                sa.select(
                    sa.exists().where(
                        processed_messages.c.conversation_id == conversation_id,
                        processed_messages.c.message_id == message_id,
                    )
                )
            )
        )
        return conversation_id, dict(row.state or {}), seen

    async def _save(
        self, conn: AsyncConnection, conversation_id: int, message_id: str | None, turn: Turn
    ) -> None:
        now = utcnow()
        await conn.execute(
            sa.update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(state=turn.state.to_json(), updated_at=now)
        )
        if message_id is not None:
            await conn.execute(
                sa.insert(processed_messages).values(
                    conversation_id=conversation_id, message_id=message_id, at=now
                )
            )
        if turn.lines:
            # Turn.log masks already; masking again keeps the guarantee at the boundary.
            await conn.execute(
                sa.insert(transcript),
                [
                    {
                        "conversation_id": conversation_id,
                        "at": line.at,
                        "role": line.role,
                        "text": mask_personal_data(line.text),
                    }
                    for line in turn.lines
                ],
            )
        if turn.misses:
            await conn.execute(
                sa.insert(misses_table),
                [
                    {
                        "question": mask_personal_data(miss.question),
                        "at": miss.at,
                        "conversation_id": conversation_id,
                    }
                    for miss in turn.misses
                ],
            )
        await conn.execute(
            sa.insert(turn_outcomes).values(
                at=now,
                answers=turn.outcomes.count("answer"),
                clarifications=turn.outcomes.count("clarify"),
                fallbacks=turn.outcomes.count("fallback"),
                flows=turn.outcomes.count("flow"),
                conversation_id=conversation_id,
                enrollments_started=turn.outcomes.count("enroll_start"),
                enrollments_finished=turn.outcomes.count("enroll_done"),
            )
        )
        if turn.claims is not None:
            await self._replace_claims(conn, conversation_id, *turn.claims)

    async def _replace_claims(
        self,
        conn: AsyncConnection,
        conversation_id: int,
        policy_year: int,
        unit_name: str,
        people: tuple[PersonClaim, ...],
    ) -> None:
        await conn.execute(sa.delete(claims).where(claims.c.conversation_id == conversation_id))
        if people:
            await conn.execute(
                sa.insert(claims),
                [
                    {
                        "conversation_id": conversation_id,
                        "policy_year": policy_year,
                        "unit_name": unit_name,
                        "id_hash": person.id_hash,
                        "masked_id": mask_personal_data(person.masked_id),
                    }
                    for person in people
                ],
            )

    async def _find_conflicts(
        self, conn: AsyncConnection, conversation_id: int, policy_year: int, hashes: list[str]
    ) -> list[tuple[str, str]]:
        if not hashes:
            return []
        if not self._sqlite:
            # Two drafts checking the same year one after the other, not side by side, so
            # both cannot miss each other's people (SQLite's single writer does the same).
            await conn.execute(
                sa.select(
                    sa.func.pg_advisory_xact_lock(LOCK_CLASS, CLAIMS_LOCK_BASE + policy_year)
                )
            )
        found: list[tuple[str, str]] = []
        for chunk in chunks(sorted(set(hashes))):
            rows = await conn.execute(
                sa.select(claims.c.id_hash, claims.c.unit_name)
                .where(
                    claims.c.policy_year == policy_year,
                    claims.c.id_hash.in_(chunk),
                    claims.c.conversation_id != conversation_id,
                )
                .order_by(claims.c.id)
            )
            found.extend((row.id_hash, row.unit_name) for row in rows)
        return found

    # --- reads and erasure ---------------------------------------------------------------

    async def transcript(self, key: ConversationKey) -> list[TranscriptLine]:
        query = (
            sa.select(transcript.c.at, transcript.c.role, transcript.c.text)
            .join(conversations, conversations.c.id == transcript.c.conversation_id)
            .where(of_key(key))
            .order_by(transcript.c.id)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            # Masked when written; masked again for lines kept by an older version.
            return [TranscriptLine(row.at, row.role, mask_personal_data(row.text)) for row in rows]

    async def forget_user(self, channel: str, user_id: str) -> int:
        """Erase the user's conversations and all that hangs off them, their misses too.

        Waits for turns of those conversations in progress; call it outside a turn."""
        async with self._write() as conn:
            ids = list(
                (
                    await conn.execute(
                        sa.select(conversations.c.id)
                        .where(
                            conversations.c.channel == channel,
                            conversations.c.user_id == user_id,
                        )
                        .with_for_update()
                    )
                ).scalars()
            )
            if ids:
                # Explicitly: SQLite cascades only with its foreign keys on.
                for table in (processed_messages, transcript, claims, misses_table, sent_files):
                    await conn.execute(sa.delete(table).where(table.c.conversation_id.in_(ids)))
                await conn.execute(sa.delete(conversations).where(conversations.c.id.in_(ids)))
            return len(ids)

    async def misses(self, since: dt.date | None = None) -> list[Miss]:
        query = sa.select(misses_table.c.question, misses_table.c.at).order_by(misses_table.c.id)
        if since is not None:
            start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
            query = query.where(misses_table.c.at >= start)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [Miss(mask_personal_data(row.question), row.at) for row in rows]

    async def stats(self) -> dict[str, int]:
        async with self._engine.connect() as conn:
            return await read_stats(conn)

    async def offered(self, key: ConversationKey) -> list[dict[str, str]]:
        async with self._engine.connect() as conn:
            state = await conn.scalar(sa.select(conversations.c.state).where(of_key(key)))
        return ConversationState.from_json(state).choices

    async def figures(self, first: dt.date, last: dt.date) -> list[DayFigures]:
        async with self._engine.connect() as conn:
            return await read_figures(conn, first, last)

    async def close(self) -> None:
        await self._engine.dispose()
