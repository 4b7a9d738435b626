"""Opening a SQL database for the storage: the URL with its async driver (other databases
refused), the migrations brought to the head, the SQLite file and folder kept private to
their owner, and SQLite's transactions begun by SQLAlchemy so a turn can take the write
lock up front; the per-conversation asyncio locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine

from flows.storage import ConversationKey
from rules.catalog import say
from rules.errors import HubaoError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
HEAD_REVISION = "0003"
"""The newest migration; a schema already there skips Alembic (kept equal by a test)."""

# Seconds a SQLite connection waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
BEGIN_MODE = "hubao_sqlite_begin"


class StorageUrlError(HubaoError, ValueError):
    """A database URL hubao cannot use; the message says why, for the user (exit 2)."""


def async_url(url: str | URL) -> URL:
    """The URL with its async driver: ``sqlite://`` -> aiosqlite, ``postgresql://`` ->
    asyncpg. Other databases are refused."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        raise StorageUrlError(say("flows.storage_url_malformed")) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StorageUrlError(say("flows.storage_url_sqlite_memory"))
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise StorageUrlError(say("flows.storage_url_unsupported", backend=backend))


class KeyLocks:
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


def upgrade_head(connection: Connection) -> None:
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


def take_over_sqlite_transactions(engine: AsyncEngine) -> None:
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
        mode = conn.get_execution_options().get(BEGIN_MODE, "DEFERRED")
        if mode:  # "" runs statements outside a transaction (PRAGMA journal_mode)
            conn.exec_driver_sql(f"BEGIN {mode}")
