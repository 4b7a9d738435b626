"""The Telegram channel, whichever library runs it.

``telegram_ptb`` and ``telegram_aiogram`` each do two things: turn their library's updates
into a ``TelegramEvent`` and implement ``BotApi`` (the handful of Bot API calls hubao makes).
Everything a user can notice lives here, once: replies as HTML (escaped, split at Telegram's
4096 characters), choices as inline keyboards, the conversation key and message id of an
update, per-chat ordering with bounded concurrency across chats, flood control, upload caps,
the admin commands and the webhook endpoint. So both libraries behave the same by
construction, and the tests hold them to it.

Ordering: ``TelegramChannel.accept`` is called in arrival order and returns at once; it
chains the turn behind the chat's previous one, and a turn takes one of ``concurrency``
slots only when its chat's turn comes (no chat blocks another). In webhook mode the HTTP
answer waits for the turn, so Telegram (which sends a chat's next update only after the
previous one is answered) keeps a chat's order across processes sharing one database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import html
import json
import logging
import os
import re
import time
import traceback
import unicodedata
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from bot.settings import SettingsError
from faq.misses import group_misses
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey, Storage
from rules.privacy import mask_personal_data

log = logging.getLogger("hubao.telegram")

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots cannot download larger files through the public Bot API."""
DEFAULT_UPLOAD_CAP_MB = 10
DOWNLOAD_CHUNK = 64 * 1024
"""Files are read in pieces of this size: past the cap, at most one more piece is read."""
WEBHOOK_BODY_LIMIT = 1024 * 1024
"""A real update is a few kilobytes; a bigger webhook request body is not read."""
FLOOD_ATTEMPTS = 3
ALLOWED_UPDATES = ("message", "callback_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MISSES_DAYS = 30
MISSES_SHOWN = 20
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

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "主菜单"),
    ("help", "使用帮助"),
    ("enroll", "我要参保：上传名单、选项目、汇总"),
    ("quote", "保费测算"),
    ("cancel", "取消当前办理"),
    ("back", "返回上一步"),
    ("forget", "删除我的对话记录和草稿"),
)
"""Registered with setMyCommands; the engine understands each as typed."""

TEXTS = {
    "choose": "请选择：",
    "too_large": (
        "文件太大了（{size}），我最多能收 {limit} MB 的文件，这个文件没有下载。"
        "请只保留参保名单这一张表、删掉多余的行和图片后再发送。"
    ),
    "over_cap": "文件超过了 {limit} MB 的上限，请只保留名单工作表后再发。",
    "download_failed": "文件没能下载下来，请稍后重新发送一次。",
    "photo": "收到图片了，但我看不了图片里的内容。参保名单请以 Excel 文件（.xlsx）发送。",
    "unsupported": "我只能看懂文字和文件。请直接打字提问，参保名单请以 Excel 文件发送。",
    "internal_error": "系统暂时出了点问题，请稍后再发一次。",
    "stats": (
        "使用统计（所有渠道）：\n"
        "· 对话：{conversations} 个\n"
        "· 消息：{turns} 条\n"
        "· 答上：{answers} 次\n"
        "· 追问澄清：{clarifications} 次\n"
        "· 没答上：{fallbacks} 次\n"
        "没答上的问题发 /misses 查看。"
    ),
    "misses_head": "近{days}天没答上的问题（共{total}次，相似的归为一组，最多列{shown}组）：",
    "misses_line": "{count}次 · {question}",
    "misses_tail": "请把常见的问题补进知识库。",
    "no_misses": "近{days}天没有没答上的问题。",
}

SETTINGS_TEXTS = {
    "no_token": (
        "没有设置 HUBAO_TELEGRAM_TOKEN。请在 Telegram 里找 @BotFather 创建机器人，"
        "把它给的令牌（形如 123456789:AAE…）设为环境变量 HUBAO_TELEGRAM_TOKEN 后再运行。"
    ),
    "bad_token": (
        "HUBAO_TELEGRAM_TOKEN 的格式不对：应是“数字:字母数字串”，形如 123456789:AAE…"
        "（冒号后 30 多个字符）。请从 @BotFather 重新复制完整的令牌。"
    ),
    "bad_api_base": (
        "HUBAO_TELEGRAM_API_BASE 应是 http:// 或 https:// 开头的地址，"
        "例如 http://127.0.0.1:8081（本地 Bot API 服务器）；不用时请删掉这个变量。"
    ),
    "bad_webhook_url": (
        "HUBAO_WEBHOOK_URL 应是 https:// 开头的公网地址，例如 https://bot.example.cn/telegram。"
    ),
    "no_secret": (
        "设置了 HUBAO_WEBHOOK_URL 就必须同时设置 HUBAO_WEBHOOK_SECRET："
        "1 到 256 个英文字母、数字、_ 或 -，用来确认请求确实来自 Telegram。"
    ),
    "bad_secret": "HUBAO_WEBHOOK_SECRET 只能用 1 到 256 个英文字母、数字、_ 或 -。",
    "bad_port": "HUBAO_WEBHOOK_PORT 应是 0 到 65535 之间的端口号，例如 8080。",
    "bad_admins": (
        "HUBAO_ADMIN_IDS 应是逗号分隔的 Telegram 用户数字 ID，例如 12345678,87654321；"
        "“{bad}”不是数字。"
    ),
    "bad_number": "{name} 应是 {low} 到 {high} 之间的整数，现在是“{raw}”。",
    "rejected_token": (
        "Telegram 不接受 HUBAO_TELEGRAM_TOKEN 里的令牌：可能已被撤销或复制不完整。"
        "请在 @BotFather 里发 /token 重新获取。"
    ),
    "unreachable": (
        "连不上 Telegram 服务器（{base}）。请检查网络，或 HUBAO_TELEGRAM_API_BASE 是否写对。"
    ),
    "webhook_refused": (
        "Telegram 不接受 HUBAO_WEBHOOK_URL：{reason}。"
        "地址须是 https，端口须是 443、80、88 或 8443。"
    ),
    "port_taken": "端口 {port} 打不开（{reason}）。请换一个 HUBAO_WEBHOOK_PORT。",
}

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,100}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BOT_COMMAND = re.compile(r"^(/[A-Za-z0-9_]+)(@[A-Za-z0-9_]+)?(\s.*)?$", re.DOTALL)

T = TypeVar("T")


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_base: str | None = None
    """HUBAO_TELEGRAM_API_BASE: e.g. a local Bot API server; None is api.telegram.org."""
    webhook_url: str | None = None
    """HUBAO_WEBHOOK_URL: webhook mode when set, long polling otherwise."""
    webhook_secret: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    admin_ids: frozenset[int] = frozenset()
    upload_cap: int = DEFAULT_UPLOAD_CAP_MB * 1024 * 1024
    concurrency: int = 16
    """Turns processed at once across chats (one at a time within a chat)."""
    request_timeout: float = 30.0
    poll_timeout: int = 30

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TelegramConfig:
        """Read and check the HUBAO_* variables; a SettingsError says what to fix."""
        env = dict(os.environ) if env is None else env
        token = (env.get("HUBAO_TELEGRAM_TOKEN") or "").strip()
        check_token(token)
        api_base = (env.get("HUBAO_TELEGRAM_API_BASE") or "").strip().rstrip("/") or None
        if api_base is not None and not _is_http_url(api_base):
            raise SettingsError(SETTINGS_TEXTS["bad_api_base"])
        webhook_url = (env.get("HUBAO_WEBHOOK_URL") or "").strip() or None
        secret = (env.get("HUBAO_WEBHOOK_SECRET") or "").strip() or None
        if webhook_url is not None:
            if not _is_http_url(webhook_url):
                raise SettingsError(SETTINGS_TEXTS["bad_webhook_url"])
            if secret is None:
                raise SettingsError(SETTINGS_TEXTS["no_secret"])
        if secret is not None and not _SECRET.match(secret):
            raise SettingsError(SETTINGS_TEXTS["bad_secret"])
        port = _int_setting(env, "HUBAO_WEBHOOK_PORT", 8080, 0, 65535, "bad_port")
        cap_mb = _int_setting(env, "HUBAO_MAX_UPLOAD_MB", DEFAULT_UPLOAD_CAP_MB, 1, 20)
        return cls(
            token=token,
            api_base=api_base,
            webhook_url=webhook_url,
            webhook_secret=secret,
            webhook_host=(env.get("HUBAO_WEBHOOK_HOST") or "0.0.0.0").strip(),
            webhook_port=port,
            admin_ids=parse_admin_ids(env.get("HUBAO_ADMIN_IDS") or ""),
            upload_cap=cap_mb * 1024 * 1024,
            concurrency=_int_setting(env, "HUBAO_TELEGRAM_CONCURRENCY", 16, 1, 1000),
        )

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def download_limit(self) -> int:
        return min(self.upload_cap, TELEGRAM_DOWNLOAD_LIMIT)


def check_token(token: str) -> None:
    """Refuse a missing or malformed bot token (without echoing it: it is a secret)."""
    if not token:
        raise SettingsError(SETTINGS_TEXTS["no_token"])
    if not _TOKEN.match(token):
        raise SettingsError(SETTINGS_TEXTS["bad_token"])


def parse_admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise SettingsError(SETTINGS_TEXTS["bad_admins"].format(bad=part))
        ids.add(int(part))
    return frozenset(ids)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _int_setting(
    env: dict[str, str], name: str, default: int, low: int, high: int, message: str = "bad_number"
) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        text = SETTINGS_TEXTS[message]
        raise SettingsError(text.format(name=name, low=low, high=high, raw=raw))
    return int(raw)


class ChannelStartError(SettingsError):
    """The bot cannot start with these settings (token refused, server unreachable...)."""


def start_error(key: str, **values: object) -> ChannelStartError:
    return ChannelStartError(SETTINGS_TEXTS[key].format(**values))


# --- the Bot API port ------------------------------------------------------------------------


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


# --- replies as Telegram messages ------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Telegram counts text length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def html_chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` escaped for HTML parse mode, in pieces of at most ``limit`` characters,
    split between lines where possible and never inside an entity such as ``&amp;``."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        piece = escape(line)
        joined = f"{current}\n{piece}" if current else piece
        if utf16_len(joined) <= limit:
            current = joined
            continue
        if current:
            chunks.append(current)
        while utf16_len(piece) > limit:
            cut = _cut(piece, limit)
            chunks.append(piece[:cut])
            piece = piece[cut:]
        current = piece
    chunks.append(current)
    # Telegram refuses a message of blank lines only.
    return [c for c in chunks if c.strip()] or [""]


def _cut(piece: str, limit: int) -> int:
    cut = limit
    while utf16_len(piece[:cut]) > limit:
        cut -= 1
    amp = piece.rfind("&", max(0, cut - 6), cut)
    if amp > 0 and ";" not in piece[amp:cut]:
        cut = amp
    return cut


def callback_data(value: str, index: int) -> str:
    """The button's value, or its 1-based number when the value exceeds 64 bytes (pressing
    it then reads as typing the number, which the engine maps to the choice)."""
    if 0 < len(value.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return value
    return str(index)


ROW_WIDTH = 24
"""Display width of one keyboard row on a phone, CJK characters counting two."""
ROW_BUTTONS = 4


def _width(label: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in label)


def keyboard_rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    """Short labels side by side ("A0", "A0+A1", ...), long ones on a row of their own, in
    order; a row never holds more than fits on a phone's screen."""
    rows: list[list[Button]] = []
    width = 0
    for button in buttons:
        need = _width(button.label) + 2  # the button's own padding
        if rows and len(rows[-1]) < ROW_BUTTONS and width + need <= ROW_WIDTH:
            rows[-1].append(button)
            width += need
        else:
            rows.append([button])
            width = need
    return [tuple(row) for row in rows]


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """The engine's replies as the messages to send, in order."""
    out: list[Outgoing] = []
    index = 0  # the engine numbers the choices of a whole answer together
    for reply in replies:
        buttons = []
        for choice in reply.choices:
            index += 1
            buttons.append(Button(choice.label, callback_data(choice.value, index)))
        rows = keyboard_rows(buttons)
        text = reply.text.strip() or (TEXTS["choose"] if rows else "")
        if text:
            chunks = html_chunks(text)
            out.extend(TextOut(chunk) for chunk in chunks[:-1])
            out.append(TextOut(chunks[-1], tuple(rows)))
        for file in reply.files:
            caption = html_chunks(file.caption, CAPTION_LIMIT)[0] if file.caption else ""
            name = file.name.replace("\\", "/").rsplit("/", 1)[-1] or "文件"
            out.append(DocumentOut(name, file.data, caption))
    return out


# --- updates as engine messages --------------------------------------------------------------

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


def _checked_text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise MalformedUpdate(f"{field} is not a string")
    return valid_text(value)


def _checked_optional_text(value: object, field: str) -> str | None:
    return None if value is None else _checked_text(value, field)


@dataclass(frozen=True)
class DocumentRef:
    file_id: str
    name: str
    size: int | None

    def __post_init__(self) -> None:
        # A library may hand fields over unchecked (python-telegram-bot does not check types).
        object.__setattr__(self, "file_id", _checked_text(self.file_id, "document.file_id"))
        object.__setattr__(self, "name", _checked_text(self.name, "document.file_name"))
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
        object.__setattr__(self, "text", _checked_text(self.text, "text"))
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


def admin_command(event: TelegramEvent, admins: frozenset[int]) -> str | None:
    if event.user_id not in admins or event.callback_id is not None:
        return None
    command = command_text(event.text).strip().lower()
    return command[1:] if command in {"/stats", "/misses"} else None


async def admin_text(storage: Storage, command: str, today: dt.date) -> str:
    """/stats and /misses for the hotline team (misses are stored masked)."""
    if command == "stats":
        counts = await storage.stats()
        fields = ("conversations", "turns", "answers", "clarifications", "fallbacks")
        return TEXTS["stats"].format(**{f: counts.get(f, 0) for f in fields})
    since = today - dt.timedelta(days=MISSES_DAYS)
    groups = group_misses(await storage.misses(since))
    if not groups:
        return TEXTS["no_misses"].format(days=MISSES_DAYS)
    lines = [
        TEXTS["misses_head"].format(
            days=MISSES_DAYS, total=sum(g.count for g in groups), shown=MISSES_SHOWN
        )
    ]
    lines += [
        TEXTS["misses_line"].format(count=g.count, question=g.question)
        for g in groups[:MISSES_SHOWN]
    ]
    lines.append(TEXTS["misses_tail"])
    return "\n".join(lines)


def too_large_text(size: int | None, limit: int) -> str:
    """Why a file was refused: with its size when Telegram declared it (nothing was then
    downloaded), else with the cap alone (the download stopped just past it)."""
    limit_mb = limit // 1024 // 1024
    if size is None:
        return TEXTS["over_cap"].format(limit=limit_mb)
    return TEXTS["too_large"].format(size=f"{size / 1024 / 1024:.1f} MB", limit=limit_mb)


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


# --- the channel -----------------------------------------------------------------------------


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
            await with_flood_control(lambda: self.api.set_commands(COMMANDS))
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
        callback_id = _checked_text(callback_id, "callback_query.id")

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
            await self.send_replies(event.chat_id, [Reply(TEXTS["internal_error"])])

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
            return TEXTS["photo"]
        if event.media is not None:
            return TEXTS["unsupported"]
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
            return TEXTS["download_failed"]
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


# --- webhook ---------------------------------------------------------------------------------


class WebhookServer:
    """The HTTPS endpoint Telegram posts updates to (TLS ends at the load balancer).

    Every request must carry the secret (403 otherwise). The answer is sent after the turn
    is done, so Telegram holds the chat's next update until then: order holds across
    processes. A redelivered update is dropped here or by the engine. A request with the
    secret but no usable update (not JSON, too big, nested too deep, fields of the wrong
    type...) is logged without its content and answered 200 all the same: Telegram would
    redeliver it forever otherwise.
    """

    def __init__(
        self,
        config: TelegramConfig,
        channel: TelegramChannel,
        feed: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        assert config.webhook_secret is not None
        self._secret = config.webhook_secret.encode()
        self._config = config
        self._channel = channel
        self._feed = feed
        self._runner: web.AppRunner | None = None
        self.port = config.webhook_port

    async def start(self) -> None:
        app = web.Application(client_max_size=WEBHOOK_BODY_LIMIT)
        app.router.add_post(self._config.webhook_path, self._handle)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=60)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._config.webhook_host, self._config.webhook_port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise start_error("port_taken", port=self.port, reason=exc.strerror) from None
        for address in self._runner.addresses:  # the real port when 0 was asked for
            self.port = int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        update = await self._read(request)
        if isinstance(update, str):
            log.warning("webhook request dropped: %s", update)
            return web.json_response({})
        update_id = update["update_id"]
        try:
            await self._feed(update)
        except Exception as exc:  # the library could not read it: a malformed update
            log.warning("webhook update %d dropped: %s", update_id, _described(exc))
        task = self._channel.pending(update_id)
        if task is not None:
            await asyncio.shield(task)
        return web.json_response({})

    @staticmethod
    async def _read(request: web.Request) -> dict[str, Any] | str:
        """The update in the request's body, or why there is none."""
        if (request.content_length or 0) > WEBHOOK_BODY_LIMIT:
            return "body too large"  # not read at all
        try:
            update = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return "body too large"
        except RecursionError:
            return "JSON nested too deeply"
        except ValueError:
            return "body is not JSON"
        if not isinstance(update, dict):
            return "body is not a JSON object"
        if type(update.get("update_id")) is not int:
            return "update_id is not an integer"
        return update


def _described(exc: Exception) -> str:
    """What went wrong, without the exception's message unless it is ours: a library's
    message may quote the update (a user's text)."""
    if isinstance(exc, MalformedUpdate):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


# --- running ---------------------------------------------------------------------------------


class TelegramBot(ABC):
    """A bot on one library: ``start`` returns once it receives updates; ``stop`` finishes
    the turns in progress and closes the connections."""

    channel: TelegramChannel
    webhook: WebhookServer | None

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...


async def run_until_stopped(bot: TelegramBot, stop: asyncio.Event) -> None:
    await bot.start()
    mode = f"webhook on port {bot.webhook.port}" if bot.webhook else "long polling"
    log.info("hubao telegram bot running (%s)", mode)
    try:
        await stop.wait()
    finally:
        await bot.stop()
