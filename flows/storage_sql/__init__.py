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

The package: ``schema`` (the tables), ``setup`` (the URL, migrations, private files, SQLite's
transactions), ``store`` (``SqlStorage``, the port itself).
"""

from flows.storage_sql.schema import metadata
from flows.storage_sql.setup import (
    HEAD_REVISION,
    MIGRATIONS,
    SQLITE_BUSY_TIMEOUT,
    StorageUrlError,
    async_url,
    private_dir,
    private_sqlite_file,
)
from flows.storage_sql.store import SqlStorage

__all__ = [
    "HEAD_REVISION",
    "MIGRATIONS",
    "SQLITE_BUSY_TIMEOUT",
    "SqlStorage",
    "StorageUrlError",
    "async_url",
    "metadata",
    "private_dir",
    "private_sqlite_file",
]
