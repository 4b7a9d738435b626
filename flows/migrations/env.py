"""Alembic environment for hubao's conversation store.

At run time ``SqlStorage.migrate`` hands over its own connection (already in a locked
transaction) through ``config.attributes["connection"]``. From the command line, e.g.
``alembic -x url=sqlite:///hubao.sqlite3 revision --autogenerate -m "..."`` with a config
whose ``script_location`` is this folder, a connection is opened from ``-x url=`` or
``HUBAO_DB_URL``.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from flows.storage_sql import async_url, metadata

config = context.config


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("HUBAO_DB_URL")
    if not url:
        raise SystemExit("Give the database with -x url=... or HUBAO_DB_URL.")
    asyncio.run(run_async_migrations(url))


if context.is_offline_mode():
    raise SystemExit("hubao's migrations run online only (SqlStorage.migrate).")
run_migrations_online()
