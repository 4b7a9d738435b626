"""The files hubao sent, kept for channels that hand out links instead of attachments (the
web page's downloads): ``Outbox`` stores a file for one conversation under an unguessable
id and gives it back to that conversation only, for ``FILE_DAYS`` days.
/forget erases them with the conversation.
"""

from __future__ import annotations

import datetime as dt
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass

from flows.keys import ConversationKey

FILE_DAYS = 7
"""How long a sent file can be downloaded again; older ones are deleted."""


def new_file_id() -> str:
    """A random id (128 bits, URL-safe): knowing one file's id tells nothing of another's."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class KeptFile:
    file_id: str
    name: str
    at: dt.datetime
    data: bytes = b""
    """Empty in listings; the content comes with ``Outbox.fetch``."""


class Outbox(ABC):
    @abstractmethod
    async def keep(self, key: ConversationKey, name: str, data: bytes, at: dt.datetime) -> str:
        """Store a file sent to ``key``; its id. Files older than FILE_DAYS are deleted."""

    @abstractmethod
    async def fetch(self, key: ConversationKey, file_id: str, now: dt.datetime) -> KeptFile | None:
        """The file, only if it was sent to ``key`` and has not expired."""

    @abstractmethod
    async def listing(self, key: ConversationKey, now: dt.datetime) -> list[KeptFile]:
        """The conversation's unexpired files (without content), oldest first."""


class MemoryOutbox(Outbox):
    def __init__(self) -> None:
        self.files: dict[str, tuple[ConversationKey, KeptFile]] = {}

    async def keep(self, key: ConversationKey, name: str, data: bytes, at: dt.datetime) -> str:
        self.files = {i: (k, f) for i, (k, f) in self.files.items() if _fresh(f, at)}
        file_id = new_file_id()
        self.files[file_id] = (key, KeptFile(file_id, name, at, data))
        return file_id

    async def fetch(self, key: ConversationKey, file_id: str, now: dt.datetime) -> KeptFile | None:
        found = self.files.get(file_id)
        if found is None or found[0] != key or not _fresh(found[1], now):
            return None
        return found[1]

    async def listing(self, key: ConversationKey, now: dt.datetime) -> list[KeptFile]:
        return [
            KeptFile(f.file_id, f.name, f.at)
            for k, f in self.files.values()
            if k == key and _fresh(f, now)
        ]

    def forget(self, keys: list[ConversationKey]) -> None:
        self.files = {i: (k, f) for i, (k, f) in self.files.items() if k not in keys}


def _fresh(file: KeptFile, now: dt.datetime) -> bool:
    return now - file.at < dt.timedelta(days=FILE_DAYS)
