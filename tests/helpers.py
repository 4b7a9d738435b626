"""Builders shared by tests: engines on in-memory storage, messages, scripted turns."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from bot.bootstrap import build_engine
from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey, MemoryStorage, Storage


@cache
def faq_service() -> FaqService:
    return FaqService(load_kb())


def engine(storage: Storage | None = None, today: dt.date = dt.date(2023, 7, 10)) -> Engine:
    settings = Settings(data_dir=Path("/nonexistent"), db_url=None, today=today,
                        secret_key="test-secret-key-0123456789")  # fmt: skip
    return build_engine(settings, storage or MemoryStorage(), faq_service())


def key(user: str = "u1", channel: str = "test") -> ConversationKey:
    return ConversationKey(channel, user, user)


def text(k: ConversationKey, words: str, message_id: str | None = None) -> Incoming:
    return Incoming(k, message_id, text=words)


def button(k: ConversationKey, value: str) -> Incoming:
    return Incoming(k, None, button=value)


def upload(k: ConversationKey, name: str, data: bytes) -> Incoming:
    return Incoming(k, None, file=IncomingFile(name, data))


def joined(replies: list[Reply]) -> str:
    """Everything a user sees in one turn: texts and button labels."""
    parts = []
    for r in replies:
        parts.append(r.text)
        parts.extend(c.label for c in r.choices)
    return "\n".join(parts)
