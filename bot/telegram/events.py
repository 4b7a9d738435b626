"""Updates as engine messages. ``TelegramEvent`` is the part of an update the channel uses,
checked (a field of the wrong type raises ``MalformedUpdate``) and made valid Unicode;
:func:`message_event` and :func:`callback_event` build it from either library's message
or button press (python-telegram-bot and aiogram name the fields alike), so both
libraries read updates the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.telegram.api import MalformedUpdate
from bot.telegram.render import CALLBACK_DATA_LIMIT
from flows.messages import Incoming
from flows.storage import ConversationKey
from rules.catalog import say

CHANNEL = "telegram"
USER_MEDIA = (
    "sticker",
    "voice",
    "video",
    "audio",
    "animation",
    "video_note",
    "location",
    "contact",
    "poll",
    "dice",
    "venue",
    "story",
)
"""Message fields (Bot API names) of content hubao cannot read; other messages without text
or a document are service messages and get no answer."""

_BOT_COMMAND = re.compile(r"^(/[A-Za-z0-9_]+)(@[A-Za-z0-9_]+)?(\s.*)?$", re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` as valid Unicode. JSON can carry lone surrogates ("\\ud800"), which no
    encoder accepts: each becomes U+FFFD (a split pair is joined again). NUL, which
    PostgreSQL cannot store, is dropped."""
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "")


def _checked_int(value: object, field: str) -> int:
    if type(value) is not int:  # bool is an int subclass, and no id
        raise MalformedUpdate(f"{field} is not an integer")
    return value


def checked_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise MalformedUpdate(f"{field} is not a string")
    return valid_text(value)


def _checked_optional_text(value: object, field: str) -> str | None:
    return None if value is None else checked_text(value, field)


@dataclass(frozen=True)
class DocumentRef:
    file_id: str
    name: str
    size: int | None

    def __post_init__(self) -> None:
        # A library may hand fields over unchecked (python-telegram-bot does not check types).
        object.__setattr__(self, "file_id", checked_text(self.file_id, "document.file_id"))
        object.__setattr__(self, "name", checked_text(self.name, "document.file_name"))
        if self.size is not None:
            _checked_int(self.size, "document.file_size")


@dataclass(frozen=True)
class TelegramEvent:
    """The parts of an update the channel uses, whichever library parsed it.

    Built from outside input: a field of the wrong type raises MalformedUpdate, and every
    text is made valid Unicode, so the engine only ever sees clean values.
    """

    update_id: int
    chat_id: int
    user_id: int
    text: str = ""
    callback_id: str | None = None
    callback_data: str | None = None
    document: DocumentRef | None = None
    media: str | None = None
    """For messages with neither text nor a document: 'photo', or 'other' (a sticker...)."""

    def __post_init__(self) -> None:
        for field in ("update_id", "chat_id", "user_id"):
            _checked_int(getattr(self, field), field)
        object.__setattr__(self, "text", checked_text(self.text, "text"))
        for field in ("callback_id", "callback_data"):
            object.__setattr__(self, field, _checked_optional_text(getattr(self, field), field))
        if self.document is not None and not isinstance(self.document, DocumentRef):
            raise MalformedUpdate("document is not a document")

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(CHANNEL, str(self.chat_id), str(self.user_id))

    @property
    def message_id(self) -> str:
        # The update id: a redelivered update is recognised by the engine, in any process.
        return f"u{self.update_id}"


def command_text(text: str) -> str:
    """``/start@hubao_bot`` as ``/start``; a deep-link payload after /start is dropped."""
    m = _BOT_COMMAND.match(text.strip())
    if not m:
        return text
    command, rest = m.group(1), m.group(3) or ""
    if command.lower() == "/start":
        return command
    return command + rest


def incoming_from_callback(key: ConversationKey, message_id: str, data: str | None) -> Incoming:
    if data and data.isdigit() and len(data) <= 3:
        return Incoming(key, message_id, text=data)
    if not data or len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT or not data.isprintable():
        data = "stale:"  # not ours: the engine answers it as an outdated button
    return Incoming(key, message_id, button=data)


def message_event(update_id: int, message: Any) -> TelegramEvent | None:
    """The channel's view of a library's message; None for messages hubao does not answer.

    A library may not check what Telegram sent (python-telegram-bot does not): a missing
    chat or a field of the wrong type raises MalformedUpdate (here or in TelegramEvent).
    """
    if message is None or message.from_user is None:
        return None
    if message.chat is None:
        raise MalformedUpdate("message without chat")
    document = None
    if (doc := message.document) is not None:
        file_name = doc.file_name or say("bot.telegram.default_roster_name")
        document = DocumentRef(doc.file_id, file_name, doc.file_size)
    media = None
    if not message.text and document is None:
        if message.photo:
            media = "photo"
        elif any(getattr(message, name, None) for name in USER_MEDIA):
            media = "other"
        else:
            return None  # a service message (someone joined a group, a pinned message...)
    return TelegramEvent(
        update_id,
        message.chat.id,
        message.from_user.id,
        text=message.text or "",
        document=document,
        media=media,
    )


def callback_event(update_id: int, query: Any) -> TelegramEvent | None:
    """The channel's view of a button press; None under an inline-mode message (no chat to
    answer in)."""
    if query.message is None:
        return None
    if query.message.chat is None or query.from_user is None:
        raise MalformedUpdate("callback_query without chat or sender")
    return TelegramEvent(
        update_id,
        query.message.chat.id,
        query.from_user.id,
        callback_id=query.id,
        callback_data=query.data,
    )
