"""The Bot API port: the handful of Bot API calls the channel makes (``BotApi``, which each
library module implements), the errors those calls end in, the messages they send
(``TextOut``, ``DocumentOut``), flood control and capped downloads.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("hubao.telegram")

DOWNLOAD_CHUNK = 64 * 1024
"""Files are read in pieces of this size: past the cap, at most one more piece is read."""
FLOOD_ATTEMPTS = 3
ALLOWED_UPDATES = ("message", "callback_query")

T = TypeVar("T")


class ApiFailure(Exception):
    """A Bot API call that did not take effect (or may not have)."""


class FloodWait(ApiFailure):
    """429: wait ``seconds`` before the next call."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"flood control: retry after {seconds} s")
        self.seconds = seconds


class MaybeDelivered(ApiFailure):
    """The request timed out after it was sent: it may have been delivered. Never retried."""


class FileTooLarge(ApiFailure):
    """Over the cap: ``size`` is the file's size when Telegram declared it (then nothing
    was downloaded), None when the download was stopped after ``read`` bytes."""

    def __init__(self, size: int | None, read: int = 0) -> None:
        what = f"{size} bytes" if size is not None else f"stopped after {read} bytes"
        super().__init__(f"file too large: {what}")
        self.size = size
        self.read = read


class MalformedUpdate(Exception):
    """An update without the fields (or types) the Bot API promises: dropped. The message
    names the field, never its content."""


@dataclass(frozen=True)
class Button:
    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class TextOut:
    html: str
    keyboard: Keyboard = ()


@dataclass(frozen=True)
class DocumentOut:
    name: str
    data: bytes
    caption_html: str = ""


Outgoing = TextOut | DocumentOut


class BotApi(ABC):
    """The Bot API calls the channel makes; each library module implements them and turns
    its errors into FloodWait (429), MaybeDelivered (timeout) or ApiFailure."""

    @abstractmethod
    async def send_text(self, chat_id: int, text: TextOut) -> int:
        """sendMessage in HTML parse mode; the new message's id."""

    @abstractmethod
    async def edit_text(self, chat_id: int, message_id: int, html_text: str) -> None: ...

    @abstractmethod
    async def send_document(self, chat_id: int, document: DocumentOut) -> None: ...

    @abstractmethod
    async def answer_callback(self, callback_id: str) -> None: ...

    @abstractmethod
    async def send_action(self, chat_id: int, action: str) -> None:
        """sendChatAction: "typing" or "upload_document"."""

    @abstractmethod
    async def download(self, file_id: str, limit: int) -> bytes:
        """getFile, then the file itself; FileTooLarge past ``limit``: before downloading
        when getFile says so, else as soon as more than ``limit`` bytes came (``read_capped``).
        """

    @abstractmethod
    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None: ...


async def with_flood_control(
    call: Callable[[], Awaitable[T]],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    attempts: int = FLOOD_ATTEMPTS,
) -> T:
    """Run ``call``, waiting out 429 answers as told; no other failure is retried (a timed-out
    send may have reached the user, and a second copy is worse than none)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except FloodWait as exc:
            if attempt == attempts:
                raise
            log.warning("flood control: waiting %.0f s (attempt %d)", exc.seconds, attempt)
            await sleep(exc.seconds)
    raise AssertionError("unreachable")


async def read_capped(chunks: AsyncGenerator[bytes, None], limit: int) -> bytes:
    """The whole stream, or FileTooLarge as soon as it passes ``limit`` bytes: at most one
    chunk past the cap is read, and the stream (with its connection) is closed at once."""
    data = bytearray()
    async with aclosing(chunks):
        async for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise FileTooLarge(None, read=len(data))
    return bytes(data)
