"""Opens the storage a database URL names: the composition root's one way in. It reads no
environment: the URL and the data folder come from the caller (``bot.settings.Settings``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from flows.storage import MemoryStorage, Storage
from flows.storage_sql import SqlStorage, private_dir

DB_FILE_NAME = "hubao.sqlite3"


DEFAULT_DATA_DIR = Path("~/.local/share/hubao")
"""hubao's data folder when none is configured."""


async def open_storage(url: str | None, data_dir: Path | None = None) -> Storage:
    """``None`` or "" -> the SQLite file ``hubao.sqlite3`` in ``data_dir`` (default
    :data:`DEFAULT_DATA_DIR`); "memory" -> :class:`MemoryStorage`; otherwise a SQLite or
    PostgreSQL URL. SQL storage comes back migrated to the newest schema.

    The data folder is hubao's own: created, or tightened, to be opened by its owner only
    (the database file itself is created 0600 by :class:`SqlStorage`)."""
    if url is not None and url.strip().lower() == "memory":
        return MemoryStorage()
    target: str | URL
    if url and url.strip():
        target = url.strip()
    else:
        folder = (data_dir or DEFAULT_DATA_DIR).expanduser()
        private_dir(folder, tighten=True)
        path = folder / DB_FILE_NAME
        # URL.create, not string formatting: a path may hold '?' or '#'.
        target = URL.create("sqlite+aiosqlite", database=str(path))
    storage = SqlStorage(target)
    try:
        await storage.migrate()
    except BaseException:
        await storage.close()
        raise
    return storage
