"""Builders shared by tests: engines on in-memory storage, messages, scripted turns."""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from bot.bootstrap import build_engine
from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey, MemoryStorage, Storage

from roster_builders import id_number, row_values, workbook


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


def default_birth(index: int) -> dt.date:
    """The birth date of the ``index``-th scripted person when the script gives none:
    distinct for every row of the biggest roster, and nobody near the age limits."""
    return dt.date(1975, 1, 1) + dt.timedelta(days=index)


def roster_upload(spec: dict[str, Any]) -> tuple[str, bytes]:
    """A roster file from a conversation script's plain description (see
    test_conversations): each person gets a distinct valid ID unless one is given."""
    name = str(spec.get("file", "参保名单.xlsx"))
    if "raw" in spec:
        return name, str(spec["raw"]).encode("utf-8")
    rows: list[dict[str, Any]] = [{} for _ in range(int(spec.get("people", 0)))]
    rows += list(spec.get("rows", []))
    lines = []
    for i, person in enumerate(rows, start=1):
        born = person.get("born", default_birth(i))
        if isinstance(born, str):
            born = dt.date.fromisoformat(born)
        female = person.get("sex") == "女"
        number = person.get("id") or id_number(born, male=not female, seq=i)
        lines.append(
            row_values(
                str(number),
                seq=i,
                name=str(person.get("name", f"员工{i}")),
                sex=person.get("sex", ""),
                si=person.get("si", "是"),
            )
        )
    with tempfile.TemporaryDirectory() as folder:
        path = workbook(Path(folder) / "roster.xlsx", lines)
        return name, path.read_bytes()


def joined(replies: list[Reply]) -> str:
    """Everything a user sees in one turn: texts and button labels."""
    parts = []
    for r in replies:
        parts.append(r.text)
        parts.extend(c.label for c in r.choices)
    return "\n".join(parts)
