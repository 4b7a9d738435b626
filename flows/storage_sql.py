"""The storage port on SQLAlchemy 2 (asyncio): a SQLite file by default, or PostgreSQL.

How a turn is serialized:

- In one process, an ``asyncio.Lock`` per conversation queues turns before they take a
  database connection, so they do not pile up on the database's locks.
- On PostgreSQL, the turn locks its conversation row (``SELECT ... FOR UPDATE``; a new
  conversation is first inserted with ``ON CONFLICT DO NOTHING``), which serializes turns
  of one conversation across processes while other conversations run concurrently.
- On SQLite, a turn opens its transaction with ``BEGIN IMMEDIATE``: the database has one
  writer at a time, so turns are serialized altogether; a busy timeout lets another
  process sharing the file wait instead of failing, and WAL lets readers go on meanwhile.

Everything a turn records (state, dedupe mark, transcript, counters, misses, claims) is
written in that one transaction, committed when the turn's block exits cleanly.

A SQLite database is kept readable by its owner only: the file (and so the ``-wal`` and
``-shm`` files SQLite creates beside it with the same mode) is created 0600, a looser
existing one tightened, and missing folders are created 0700.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from faq.misses import Miss
from flows.storage import (
    ConversationKey,
    ConversationState,
    PersonClaim,
    Storage,
    TranscriptLine,
    Turn,
)
from rules.privacy import mask_personal_data

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0002"
"""The newest migration; a schema already there skips Alembic (kept equal by a test)."""

# Advisory lock ids (classid, objid) on PostgreSQL; the classid keeps them apart from
# locks other applications sharing the database might take.
_LOCK_CLASS = 0x4842  # "HB"
_MIGRATION_LOCK = 0
_CLAIMS_LOCK_BASE = 1  # + policy year
# Seconds a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
# SQLite caps bound parameters per statement; keep IN lists well below it.
_IN_CHUNK = 500
_BEGIN_MODE = "hubao_sqlite_begin"


class StorageUrlError(ValueError):
    """A database URL hubao cannot use; the message says why, for the user."""


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
# counts outlive /forget because they hold nothing personal.
turn_outcomes = sa.Table(
    "turn_outcomes",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("answers", sa.Integer(), nullable=False),
    sa.Column("clarifications", sa.Integer(), nullable=False),
    sa.Column("fallbacks", sa.Integer(), nullable=False),
    sa.Column("flows", sa.Integer(), nullable=False),
)


def async_url(url: str | URL) -> URL:
    """The URL with its async driver: ``sqlite://`` -> aiosqlite, ``postgresql://`` ->
    asyncpg. Other databases are refused."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise StorageUrlError(
            "数据库地址格式不对，应类似 sqlite:///路径/hubao.sqlite3 或 "
            "postgresql://用户@主机/数据库。"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StorageUrlError("SQLite 需要一个文件路径；只在内存里保存请用 memory。")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise StorageUrlError(f"不支持的数据库：{backend}。请使用 SQLite 或 PostgreSQL。")


class _KeyLocks:
    """An asyncio.Lock per conversation, dropped once no task holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[ConversationKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: ConversationKey) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _schema_revision(connection: Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade_head(connection: Connection) -> None:
    if _schema_revision(connection) == HEAD_REVISION:
        return
    # Alembic is imported only when there is something to upgrade: it is a tenth of a
    # second of every command's start otherwise.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
            _take_over_sqlite_transactions(self._engine)
        else:
            self._engine = create_async_engine(
                self.url, echo=echo, json_serializer=serializer, pool_pre_ping=True
            )
        self._keys = _KeyLocks()
        # SQLite has one writer: queueing writers here beats polling on the file lock.
        self._writer: AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if self._sqlite else contextlib.nullcontext()
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a writing transaction, committed on a clean exit."""
        async with self._writer, self._engine.connect() as conn:
            if self._sqlite:
                await conn.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (``alembic upgrade head``).

        Safe when several processes start at once: the upgrade runs under a lock."""
        async with self._write() as conn:
            if not self._sqlite:
                await conn.execute(
                    sa.select(sa.func.pg_advisory_xact_lock(_LOCK_CLASS, _MIGRATION_LOCK))
                )
            await conn.run_sync(_upgrade_head)
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
                    await conn.execution_options(**{_BEGIN_MODE: ""})
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
            .where(
                conversations.c.channel == key.channel,
                conversations.c.chat_id == key.chat_id,
                conversations.c.user_id == key.user_id,
            )
            .with_for_update()
        )
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            # Another process's first turn may be inserting the same key: the INSERT waits
            # for it and then does nothing, and the SELECT ... FOR UPDATE locks that row.
            insert = postgresql.insert if not self._sqlite else sqlite.insert
            now = _utcnow()
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
        now = _utcnow()
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
                    sa.func.pg_advisory_xact_lock(_LOCK_CLASS, _CLAIMS_LOCK_BASE + policy_year)
                )
            )
        found: list[tuple[str, str]] = []
        for chunk in _chunks(sorted(set(hashes))):
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
            .where(
                conversations.c.channel == key.channel,
                conversations.c.chat_id == key.chat_id,
                conversations.c.user_id == key.user_id,
            )
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
                for table in (processed_messages, transcript, claims, misses_table):
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
        outcomes = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(turn_outcomes.c.answers), 0),
            sa.func.coalesce(sa.func.sum(turn_outcomes.c.clarifications), 0),
            sa.func.coalesce(sa.func.sum(turn_outcomes.c.fallbacks), 0),
        ).select_from(turn_outcomes)
        async with self._engine.connect() as conn:
            count = await conn.scalar(sa.select(sa.func.count()).select_from(conversations))
            turns, answers, clarifications, fallbacks = (await conn.execute(outcomes)).one()
        return {
            "conversations": int(count or 0),
            "turns": int(turns),
            "answers": int(answers),
            "clarifications": int(clarifications),
            "fallbacks": int(fallbacks),
        }

    async def close(self) -> None:
        await self._engine.dispose()


PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path, *, tighten: bool = False) -> None:
    """Create ``path`` (and missing parents) as a folder only its owner can open.

    ``tighten``: also take group and other permissions off an existing folder of ours
    (hubao's own data folder; never a folder someone else named)."""
    if not path.exists():
        # A umask only takes permissions away: the folder is never open to others.
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    elif tighten:
        _tighten(path, PRIVATE_DIR_MODE)


def private_sqlite_file(path: Path) -> None:
    """Create the database file empty with mode 0600 (umask or not) before SQLite opens
    it; an existing one of ours, and its side files, lose group and other permissions."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        finally:
            os.close(fd)
    for file in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)):
        _tighten(file, PRIVATE_FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Take away group and other permissions from ``path`` if it exists and is ours."""
    try:
        found = path.stat()
        if found.st_uid == os.geteuid() and stat.S_IMODE(found.st_mode) & 0o077:
            path.chmod(mode)
    except FileNotFoundError:
        pass


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 driver, emit BEGIN, so a turn can say IMMEDIATE
    (SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" recipe)."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN would come before ours and be DEFERRED.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            # What /forget erases is overwritten in the file, not left in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            # Switching needs the file to itself, and SQLite fails at once rather than
            # wait, while another process uses it; migrate() retries until it is WAL.
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front; a DEFERRED read could not be upgraded
        # to a write later without risking SQLITE_BUSY in the middle of a turn.
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        if mode:  # "" runs statements outside a transaction (PRAGMA journal_mode)
            conn.exec_driver_sql(f"BEGIN {mode}")
