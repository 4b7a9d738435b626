"""``SqlStaffStore``: the hotline console's accounts, sessions and failed logins in the
database, shared by every process serving the console.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from flows.staff import StaffStore
from flows.storage_sql.queries import Write
from flows.storage_sql.schema import login_failures, staff_accounts, staff_sessions

FAILURE_DAYS = 30
"""Failed logins older than this are deleted when a new one is noted: throttling looks back
minutes, and an attack must not grow the table forever."""


class SqlStaffStore(StaffStore):
    def __init__(self, engine: AsyncEngine, write: Write) -> None:
        self._engine = engine
        self._write = write

    async def set_password(self, name: str, password_hash: str, at: dt.datetime) -> bool:
        async with self._write() as conn:
            replaced = await conn.execute(
                sa.update(staff_accounts)
                .where(staff_accounts.c.name == name)
                .values(password_hash=password_hash, updated_at=at)
            )
            if replaced.rowcount:
                # A new password ends the logins made with the old one.
                await conn.execute(sa.delete(staff_sessions).where(staff_sessions.c.name == name))
                return False
            await conn.execute(
                sa.insert(staff_accounts).values(
                    name=name, password_hash=password_hash, created_at=at, updated_at=at
                )
            )
            return True

    async def password_hash(self, name: str) -> str | None:
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                sa.select(staff_accounts.c.password_hash).where(staff_accounts.c.name == name)
            )
        return None if found is None else str(found)

    async def open_session(self, token_hash: str, name: str, expires: dt.datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.insert(staff_sessions).values(token_hash=token_hash, name=name, expires=expires)
            )

    async def session_user(self, token_hash: str, now: dt.datetime) -> str | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(staff_sessions.c.name, staff_sessions.c.expires).where(
                        staff_sessions.c.token_hash == token_hash
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        if row.expires <= now:
            await self.close_session(token_hash)  # an expired session is of no more use
            return None
        return str(row.name)

    async def close_session(self, token_hash: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash)
            )

    async def note_failure(self, subject: str, at: dt.datetime) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.delete(login_failures).where(
                    login_failures.c.at < at - dt.timedelta(days=FAILURE_DAYS)
                )
            )
            await conn.execute(sa.insert(login_failures).values(subject=subject, at=at))

    async def failures(self, subject: str, since: dt.datetime) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(login_failures)
                .where(login_failures.c.subject == subject, login_failures.c.at >= since)
            )
        return int(count or 0)

    async def clear_failures(self, subject: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                sa.delete(login_failures).where(login_failures.c.subject == subject)
            )
