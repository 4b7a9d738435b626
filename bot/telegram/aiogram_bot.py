"""The Telegram channel on aiogram 3 (for deployments that prefer its MIT licence).

Same behaviour as ``ptb_bot``: the Dispatcher receives the updates (its long polling,
one update at a time; in webhook mode our ``WebhookServer`` feeds it) and its handlers pass
them to the shared channel in ``bot.telegram``. aiogram's own webhook handler is not
used: it answers a wrong secret with 401 (Telegram's convention is 403) and answers before
the turn is done, which would lose a chat's order across processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)

from bot.telegram import api as port
from bot.telegram.channel import TelegramChannel
from bot.telegram.config import TelegramConfig, start_error
from bot.telegram.events import TelegramEvent, callback_event, message_event
from bot.telegram.webhook import TelegramBot, WebhookServer
from flows.engine import Engine
from flows.storage import Storage

log = logging.getLogger("hubao.telegram")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """aiogram's errors as the channel's: 429 waits, a timeout may have delivered."""
    try:
        yield
    except TelegramRetryAfter as exc:
        raise port.FloodWait(float(exc.retry_after)) from exc
    except TelegramNetworkError as exc:
        raise port.MaybeDelivered(str(exc)) from exc
    except TelegramAPIError as exc:
        if "too big" in str(exc).lower():
            raise port.FileTooLarge(None) from exc
        raise port.ApiFailure(str(exc)) from exc
    # File downloads. Not the exception's text: it may hold the URL, which holds the token.
    except aiohttp.ClientResponseError as exc:
        raise port.ApiFailure(f"file download answered HTTP {exc.status}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise port.ApiFailure(f"file download failed: {type(exc).__name__}") from exc


def _markup(keyboard: port.Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    rows = [
        [InlineKeyboardButton(text=b.label, callback_data=b.data) for b in row] for row in keyboard
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


class AiogramApi(port.BotApi):
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send_text(self, chat_id: int, text: port.TextOut) -> int:
        async with _translated():
            message = await self._bot.send_message(
                chat_id,
                text.html,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(text.keyboard),
                link_preview_options=_NO_PREVIEW,
            )
        return message.message_id

    async def edit_text(self, chat_id: int, message_id: int, html_text: str) -> None:
        async with _translated():
            await self._bot.edit_message_text(
                text=html_text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            )

    async def send_document(self, chat_id: int, document: port.DocumentOut) -> None:
        async with _translated():
            await self._bot.send_document(
                chat_id,
                BufferedInputFile(document.data, filename=document.name),
                caption=document.caption_html or None,
                parse_mode=ParseMode.HTML,
            )

    async def answer_callback(self, callback_id: str) -> None:
        async with _translated():
            await self._bot.answer_callback_query(callback_id)

    async def send_action(self, chat_id: int, action: str) -> None:
        async with _translated():
            await self._bot.send_chat_action(chat_id, action)

    async def download(self, file_id: str, limit: int) -> bytes:
        async with _translated():
            file = await self._bot.get_file(file_id)
        if file.file_size is not None and file.file_size > limit:
            raise port.FileTooLarge(file.file_size)
        if not file.file_path:
            raise port.ApiFailure("getFile returned no file_path")
        url = self._bot.session.api.file_url(self._bot.token, file.file_path)
        async with _translated():
            chunks = self._bot.session.stream_content(url, chunk_size=port.DOWNLOAD_CHUNK)
            return await port.read_capped(chunks, limit)

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        async with _translated():
            await self._bot.set_my_commands(
                [BotCommand(command=c, description=d) for c, d in commands]
            )


def build_bot(config: TelegramConfig) -> Bot:
    api = TelegramAPIServer.from_base(config.api_base) if config.api_base else PRODUCTION
    session = AiohttpSession(api=api, timeout=config.request_timeout)
    return Bot(config.token, session=session)


class AiogramBot(TelegramBot):
    """hubao on aiogram: long polling, or webhook mode with HUBAO_WEBHOOK_URL."""

    def __init__(self, engine: Engine, storage: Storage, config: TelegramConfig) -> None:
        self.config = config
        self.bot = build_bot(config)
        self.dispatcher = Dispatcher()
        self.api = AiogramApi(self.bot)
        self.channel = TelegramChannel(engine, storage, config, self.api)
        self.dispatcher.message.register(self._on_message)
        self.dispatcher.callback_query.register(self._on_callback)
        self.webhook = (
            WebhookServer(config, self.channel, self._feed) if config.webhook_url else None
        )
        self._polling: asyncio.Task[None] | None = None

    async def _on_message(self, message: Message, event_update: Update) -> None:
        update_id = event_update.update_id
        self._accept(update_id, lambda: message_event(update_id, message))

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        if query.message is None:
            self.channel.acknowledge(query.id)  # no chat to answer in: stop the spinner
            return
        update_id = event_update.update_id
        self._accept(update_id, lambda: callback_event(update_id, query))

    def _accept(self, update_id: int, event_of: Callable[[], TelegramEvent | None]) -> None:
        try:
            event = event_of()
        except port.MalformedUpdate as exc:
            log.warning("update %d dropped: %s", update_id, exc)
            return
        if event is not None:
            self.channel.accept(event)

    async def _feed(self, data: dict[str, Any]) -> None:
        # Not feed_raw_update: it logs a failure with its message, which quotes the update.
        update = Update.model_validate(data, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)

    async def start(self) -> None:
        try:
            await self.bot.me()  # getMe: checks the token
        except TelegramUnauthorizedError:
            await self.bot.session.close()
            raise start_error("rejected_token") from None
        except TelegramAPIError:
            await self.bot.session.close()
            raise start_error("unreachable", base=self.config.api_server) from None
        await self.channel.register_commands()
        if self.webhook is not None:
            await self.start_webhook()
            return
        async with _translated():  # getUpdates is refused while a webhook is set
            await self.bot.delete_webhook()
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_as_tasks=False,  # one at a time: the handlers only queue turns
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=list(port.ALLOWED_UPDATES),
                polling_timeout=self.config.poll_timeout,
            )
        )

    async def set_webhook(self, url: str, secret: str | None, updates: list[str]) -> None:
        async with _translated():
            await self.bot.set_webhook(url, secret_token=secret, allowed_updates=updates)

    async def stop(self) -> None:
        if self._polling is not None:
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:  # polling had not started yet
                self._polling.cancel()
            with suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        if self.webhook is not None:
            await self.webhook.stop()
        await self.channel.drain()
        await self.bot.session.close()
