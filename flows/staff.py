"""The hotline team's console accounts: password hashes (made by the web channel), login
sessions (stored as hashes of their tokens, with an expiry) and failed logins (for
throttling), shared by every process on one database.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod


class StaffStore(ABC):
    @abstractmethod
    async def set_password(self, name: str, password_hash: str, at: dt.datetime) -> bool:
        """Create the account, or replace its password and end its open sessions (a
        password changed because it leaked must lock the holder out); True when new."""

    @abstractmethod
    async def password_hash(self, name: str) -> str | None:
        """The account's stored hash; None when there is no such account."""

    @abstractmethod
    async def open_session(self, token_hash: str, name: str, expires: dt.datetime) -> None: ...

    @abstractmethod
    async def session_user(self, token_hash: str, now: dt.datetime) -> str | None:
        """The account a session belongs to; None when unknown or expired."""

    @abstractmethod
    async def close_session(self, token_hash: str) -> None: ...

    @abstractmethod
    async def note_failure(self, subject: str, at: dt.datetime) -> None:
        """A failed login for ``subject`` (an account name or an address, prefixed)."""

    @abstractmethod
    async def failures(self, subject: str, since: dt.datetime) -> int:
        """Failed logins for ``subject`` at or after ``since``."""

    @abstractmethod
    async def clear_failures(self, subject: str) -> None: ...


class MemoryStaffStore(StaffStore):
    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.sessions: dict[str, tuple[str, dt.datetime]] = {}
        self.failed: dict[str, list[dt.datetime]] = {}

    async def set_password(self, name: str, password_hash: str, at: dt.datetime) -> bool:
        new = name not in self.accounts
        self.accounts[name] = password_hash
        self.sessions = {t: s for t, s in self.sessions.items() if s[0] != name}
        return new

    async def password_hash(self, name: str) -> str | None:
        return self.accounts.get(name)

    async def open_session(self, token_hash: str, name: str, expires: dt.datetime) -> None:
        self.sessions[token_hash] = (name, expires)

    async def session_user(self, token_hash: str, now: dt.datetime) -> str | None:
        found = self.sessions.get(token_hash)
        if found is None or found[1] <= now:
            return None
        return found[0]

    async def close_session(self, token_hash: str) -> None:
        self.sessions.pop(token_hash, None)

    async def note_failure(self, subject: str, at: dt.datetime) -> None:
        self.failed.setdefault(subject, []).append(at)

    async def failures(self, subject: str, since: dt.datetime) -> int:
        return sum(1 for at in self.failed.get(subject, []) if at >= since)

    async def clear_failures(self, subject: str) -> None:
        self.failed.pop(subject, None)
