"""The Telegram channel on python-telegram-bot v22 (the default library).

PTB's Application receives the updates (its Updater for long polling; in webhook mode our
``WebhookServer`` hands them to ``Application.process_update``) and its handlers pass them to
the shared channel in ``bot.telegram``, which does the rest. The Application runs
updates one at a time, and the handlers only queue the turn, so arrival order is kept; the
channel runs turns of different chats concurrently.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager

import httpx
from telegram import Bot as PtbTelegramBot
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram.api import (
    ALLOWED_UPDATES,
    DOWNLOAD_CHUNK,
    ApiFailure,
    BotApi,
    DocumentOut,
    FileTooLarge,
    FloodWait,
    Keyboard,
    MalformedUpdate,
    MaybeDelivered,
    TextOut,
    read_capped,
)
from bot.telegram.channel import TelegramChannel
from bot.telegram.config import TelegramConfig, start_error
from bot.telegram.events import TelegramEvent, callback_event, message_event
from bot.telegram.webhook import TelegramBot, WebhookServer
from flows.engine import Engine
from flows.storage import Storage

log = logging.getLogger("hubao.telegram")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@contextmanager
def _translated() -> Iterator[None]:
    """PTB's errors as the channel's: 429 waits, a timeout may have delivered."""
    try:
        yield
    except RetryAfter as exc:
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        raise FloodWait(seconds) from exc
    except TimedOut as exc:
        raise MaybeDelivered(str(exc)) from exc
    except TelegramError as exc:
        if "too big" in str(exc).lower():
            raise FileTooLarge(None) from exc
        raise ApiFailure(str(exc)) from exc


def _markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )


class PtbApi(BotApi):
    def __init__(self, bot: PtbTelegramBot, timeout: float = 30.0) -> None:
        self._bot = bot
        self._timeout = timeout
        # Files are streamed on a client of our own (opened on the first download): PTB only
        # downloads a whole file, so an undeclared size would be learnt after all of it came.
        self._files: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._files is not None:
            await self._files.aclose()
            self._files = None

    async def send_text(self, chat_id: int, text: TextOut) -> int:
        with _translated():
            message = await self._bot.send_message(
                chat_id,
                text.html,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(text.keyboard),
                link_preview_options=_NO_PREVIEW,
            )
        return message.message_id

    async def edit_text(self, chat_id: int, message_id: int, html_text: str) -> None:
        with _translated():
            await self._bot.edit_message_text(
                html_text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
            )

    async def send_document(self, chat_id: int, document: DocumentOut) -> None:
        with _translated():
            await self._bot.send_document(
                chat_id,
                document.data,
                filename=document.name,
                caption=document.caption_html or None,
                parse_mode=ParseMode.HTML,
            )

    async def answer_callback(self, callback_id: str) -> None:
        with _translated():
            await self._bot.answer_callback_query(callback_id)

    async def send_action(self, chat_id: int, action: str) -> None:
        with _translated():
            await self._bot.send_chat_action(chat_id, action)

    async def download(self, file_id: str, limit: int) -> bytes:
        with _translated():
            file = await self._bot.get_file(file_id)
        if file.file_size is not None and file.file_size > limit:
            raise FileTooLarge(file.file_size)
        if not file.file_path:
            raise ApiFailure("getFile returned no file_path")
        # PTB made file_path the download URL (with the token: never logged).
        return await read_capped(self._chunks(file.file_path), limit)

    async def _chunks(self, url: str) -> AsyncGenerator[bytes, None]:
        if self._files is None:
            self._files = httpx.AsyncClient(timeout=self._timeout)
        try:
            async with self._files.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ApiFailure(f"file download answered HTTP {response.status_code}")
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                    yield chunk
        except httpx.HTTPError as exc:
            raise ApiFailure(f"file download failed: {type(exc).__name__}") from exc

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        with _translated():
            await self._bot.set_my_commands([BotCommand(c, d) for c, d in commands])


def event_of(update: Update) -> TelegramEvent | None:
    """The channel's view of a PTB update; None for updates hubao does not answer."""
    if (query := update.callback_query) is not None:
        return callback_event(update.update_id, query)
    return message_event(update.update_id, update.message)


def use_timedelta_durations() -> None:
    """PTB's documented opt-in to v23 behaviour (an environment variable PTB reads when a
    duration is read): durations such as RetryAfter.retry_after come as timedelta (handled
    in ``_translated``) instead of an int with a deprecation warning on every 429. Set when
    a bot is built, not on import."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


def build_application(config: TelegramConfig) -> Application:  # type: ignore[type-arg]
    use_timedelta_durations()
    builder = ApplicationBuilder().token(config.token)
    if config.api_base:
        builder = builder.base_url(f"{config.api_base}/bot")
        builder = builder.base_file_url(f"{config.api_base}/file/bot")
    timeout = config.request_timeout
    builder = (
        builder.connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .media_write_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .concurrent_updates(False)  # handlers only queue turns; the channel runs them
    )
    if config.webhook_url:
        builder = builder.updater(None)
    return builder.build()


class PtbBot(TelegramBot):
    """hubao on python-telegram-bot: long polling, or webhook mode with HUBAO_WEBHOOK_URL."""

    def __init__(self, engine: Engine, storage: Storage, config: TelegramConfig) -> None:
        self.config = config
        self.application = build_application(config)
        self.api = PtbApi(self.application.bot, config.request_timeout)
        self.channel = TelegramChannel(engine, storage, config, self.api)
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_update))
        self.application.add_handler(CallbackQueryHandler(self._on_update))
        self.webhook = (
            WebhookServer(config, self.channel, self._feed) if config.webhook_url else None
        )

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            if query is not None and query.message is None:
                self.channel.acknowledge(query.id)  # no chat to answer in: stop the spinner
                return
            event = event_of(update)
        except MalformedUpdate as exc:
            log.warning("update %s dropped: %s", update.update_id, exc)
            return
        if event is not None:
            self.channel.accept(event)

    async def _feed(self, data: dict[str, object]) -> None:
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)

    async def start(self) -> None:
        try:
            await self.application.initialize()  # getMe: checks the token
        except InvalidToken:
            raise start_error("rejected_token") from None
        except NetworkError:
            raise start_error("unreachable", base=self.config.api_server) from None
        await self.channel.register_commands()
        await self.application.start()
        if self.webhook is not None:
            await self.start_webhook()
        else:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                allowed_updates=list(ALLOWED_UPDATES), timeout=self.config.poll_timeout
            )

    async def set_webhook(self, url: str, secret: str | None, updates: list[str]) -> None:
        with _translated():
            await self.application.bot.set_webhook(
                url, secret_token=secret, allowed_updates=updates
            )

    async def stop(self) -> None:
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.application.running:
            await self.application.stop()  # hands the updates still queued to the handlers
        await self.channel.drain()
        await self.application.shutdown()
        await self.api.close()
