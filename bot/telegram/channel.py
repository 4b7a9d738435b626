"""The Telegram channel: updates in, engine turns, messages out.

Ordering: ``TelegramChannel.accept`` is called in arrival order and returns at once; it
chains the turn behind the chat's previous one, and a turn takes one of ``concurrency``
slots only when its chat's turn comes (no chat blocks another). In webhook mode the HTTP
answer waits for the turn, so Telegram (which sends a chat's next update only after the
previous one is answered) keeps a chat's order across processes sharing one database.
Also here: redelivered updates dropped, upload caps, progress shown by editing a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from bot.console import megabytes
from bot.telegram.api import (
    ApiFailure,
    BotApi,
    FileTooLarge,
    MaybeDelivered,
    TextOut,
    with_flood_control,
)
from bot.telegram.config import TelegramConfig
from bot.telegram.events import (
    DocumentRef,
    TelegramEvent,
    checked_text,
    command_text,
    incoming_from_callback,
)
from bot.telegram.render import html_chunks, render
from bot.telegram.reports import admin_command, admin_text
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import Storage
from rules.catalog import say
from rules.privacy import mask_personal_data

log = logging.getLogger("hubao.telegram")

COMMAND_NAMES = ("start", "help", "enroll", "quote", "cancel", "back", "forget")
"""Registered with setMyCommands (described in the catalog); the engine understands each
as typed."""


def command_menu() -> tuple[tuple[str, str], ...]:
    """The command menu: each command with its description."""
    return tuple((name, say(f"bot.telegram.command.{name}")) for name in COMMAND_NAMES)


def too_large_text(size: int | None, limit: int) -> str:
    """Why a file was refused: with its size when Telegram declared it (nothing was then
    downloaded), else with the cap alone (the download stopped just past it)."""
    limit_mb = limit // 1024 // 1024
    if size is None:
        return say("bot.telegram.over_cap", limit=limit_mb)
    return say("bot.telegram.too_large", size=megabytes(size), limit=limit_mb)


# --- ordering --------------------------------------------------------------------------------


class ChatSequencer:
    """Runs work one at a time per chat, in submission order, at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._tails: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, chat: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Queue ``work`` behind the chat's earlier work; synchronous, so order is kept."""
        task = asyncio.create_task(self._run(self._tails.get(chat), work))
        self._tails[chat] = task
        self._tasks.add(task)
        task.add_done_callback(partial(self._finished, chat))
        return task

    async def _run(
        self, previous: asyncio.Task[None] | None, work: Callable[[], Awaitable[None]]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        async with self._slots:
            await work()

    def _finished(self, chat: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(chat) is task:
            del self._tails[chat]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("turn failed in chat %s", chat, exc_info=exc)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))


class RecentIds:
    """The last ``size`` update ids seen, to drop a redelivery before any work."""

    def __init__(self, size: int = 10_000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True

    def discard(self, update_id: int) -> None:
        self._ids.pop(update_id, None)


class ProgressMessage:
    """One message that shows a long task's progress by being edited in place.

    ``await progress("已检查 200/1000 行")`` sends it the first time and edits it after;
    edits closer than ``min_interval`` seconds are skipped, except ``final=True``.
    """

    def __init__(
        self,
        api: BotApi,
        chat_id: int,
        min_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._chat_id = chat_id
        self._min_interval = min_interval
        self._clock = clock
        self.message_id: int | None = None
        self._shown = ""
        self._at = 0.0

    async def __call__(self, text: str, final: bool = False) -> None:
        chunk = html_chunks(text)[0]
        now = self._clock()
        try:
            if self.message_id is None:
                self.message_id = await with_flood_control(
                    lambda: self._api.send_text(self._chat_id, TextOut(chunk))
                )
            elif chunk != self._shown and (final or now - self._at >= self._min_interval):
                message_id = self.message_id
                await with_flood_control(
                    lambda: self._api.edit_text(self._chat_id, message_id, chunk)
                )
            else:
                return
        except ApiFailure as exc:  # progress is a courtesy; the result still follows
            log.warning("progress message not updated: %s", exc)
            return
        self._shown, self._at = chunk, now


class TelegramChannel:
    """Updates in, engine turns, messages out. One per running bot."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        config: TelegramConfig,
        api: BotApi,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.config = config
        self.api = api
        self._sequencer = ChatSequencer(config.concurrency)
        self._seen = RecentIds()
        self._pending: dict[int, asyncio.Task[None]] = {}

    async def register_commands(self) -> None:
        """setMyCommands; a failure only costs the command menu, so it is logged."""
        try:
            await with_flood_control(lambda: self.api.set_commands(command_menu()))
        except ApiFailure as exc:
            log.warning("setMyCommands failed: %s", exc)

    def accept(self, event: TelegramEvent) -> asyncio.Task[None] | None:
        """Queue the event's turn behind its chat's earlier ones; call in arrival order."""
        if not self._seen.add(event.update_id):
            log.info("update %d received again: already handled", event.update_id)
            return None
        task = self._sequencer.submit(str(event.chat_id), partial(self._turn, event))
        self._pending[event.update_id] = task
        task.add_done_callback(lambda _: self._pending.pop(event.update_id, None))
        return task

    def acknowledge(self, callback_id: str) -> None:
        """Answer a button press that has no chat to reply in (a button under an inline-mode
        message), so the user's button stops spinning."""
        callback_id = checked_text(callback_id, "callback_query.id")

        async def answer() -> None:
            await self._quietly(self.api.answer_callback(callback_id))

        self._sequencer.submit(f"callback {callback_id}", answer)

    def pending(self, update_id: int) -> asyncio.Task[None] | None:
        """The turn of an accepted update still running, if any (webhook answers wait)."""
        return self._pending.get(update_id)

    async def drain(self) -> None:
        """Finish every accepted turn (at shutdown)."""
        await self._sequencer.drain()

    def progress(self, chat_id: int, min_interval: float = 2.0) -> ProgressMessage:
        return ProgressMessage(self.api, chat_id, min_interval)

    async def _turn(self, event: TelegramEvent) -> None:
        try:
            if event.callback_id is not None:
                await self._quietly(self.api.answer_callback(event.callback_id))
            message = await self._incoming(event)
            if isinstance(message, str):
                await self.send_replies(event.chat_id, [Reply(message)])
                return
            await self._quietly(self.api.send_action(event.chat_id, "typing"))
            # A roster of thousands of rows takes seconds: show its progress meanwhile.
            progress = self.progress(event.chat_id) if message.file is not None else None
            replies = await self.engine.handle(message, progress=progress)
            await self.send_replies(event.chat_id, replies)
        except Exception:
            self._seen.discard(event.update_id)
            log.exception("update %d in chat %d failed", event.update_id, event.chat_id)
            await self.send_replies(event.chat_id, [Reply(say("bot.telegram.internal_error"))])

    async def _incoming(self, event: TelegramEvent) -> Incoming | str:
        """The engine message for the event, or the channel's own answer."""
        key, message_id = event.key, event.message_id
        if event.callback_id is not None:
            return incoming_from_callback(key, message_id, event.callback_data)
        if command := admin_command(event, self.config.admin_ids):
            return await admin_text(self.storage, command, self.engine.now().date())
        if event.document is not None:
            return await self._download(event, event.document)
        if event.media == "photo":
            return say("bot.telegram.photo")
        if event.media is not None:
            return say("bot.telegram.unsupported")
        return Incoming(key, message_id, text=command_text(event.text))

    async def _download(self, event: TelegramEvent, doc: DocumentRef) -> Incoming | str:
        limit = self.config.download_limit
        if doc.size is not None and doc.size > limit:
            return too_large_text(doc.size, limit)
        await self._quietly(self.api.send_action(event.chat_id, "typing"))
        try:
            data = await with_flood_control(lambda: self.api.download(doc.file_id, limit))
        except FileTooLarge as exc:
            log.info("document refused in chat %d, cap %d bytes: %s", event.chat_id, limit, exc)
            return too_large_text(exc.size, limit)
        except ApiFailure as exc:
            log.warning("download failed in chat %d: %s", event.chat_id, exc)
            return say("bot.telegram.download_failed")
        file = IncomingFile(doc.name, data)
        return Incoming(event.key, event.message_id, file=file)

    async def send_replies(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Send the engine's replies in order: texts (with buttons), then their files."""
        for out in render(replies):
            try:
                if isinstance(out, TextOut):
                    await with_flood_control(partial(self.api.send_text, chat_id, out))
                else:
                    await self._quietly(self.api.send_action(chat_id, "upload_document"))
                    await with_flood_control(partial(self.api.send_document, chat_id, out))
            except MaybeDelivered as exc:
                log.warning("send to chat %d timed out, not retried: %s", chat_id, exc)
            except ApiFailure as exc:
                # e.g. the user blocked the bot: the rest of this answer cannot arrive either
                log.warning("send to chat %d failed: %s", chat_id, mask_personal_data(str(exc)))
                return

    @staticmethod
    async def _quietly(call: Awaitable[Any]) -> None:
        """Best-effort calls (typing indicator, callback acknowledgement): never retried."""
        try:
            await call
        except ApiFailure as exc:
            log.info("best-effort call failed: %s", exc)
