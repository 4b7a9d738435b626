"""A fake Telegram Bot API server on 127.0.0.1, started by the tests.

It speaks the Bot API's HTTP dialect well enough for python-telegram-bot and aiogram: getMe,
getUpdates (long polling with ``offset`` and ``timeout``; 409 while a webhook is set),
setWebhook/deleteWebhook, setMyCommands, sendMessage, editMessageText, answerCallbackQuery,
sendDocument (multipart), sendChatAction, getFile and the file download URL. Like Telegram it
refuses HTML it cannot parse, texts over 4096 characters and callback data over 64 bytes.

Every call is recorded. ``fail_next`` answers the next call of a method with 429 and
``retry_after``; ``hang_next`` delivers the next call but withholds the answer, as a request
that times out after reaching Telegram does. Files are served in chunks of ``FILE_CHUNK``
bytes over a small socket send buffer, and ``transfers`` records how much of each was sent:
a client that stops reading is seen to have stopped.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456789:AAFakeTokenForHubaoTests_0123456789"
BOT_ID = 123456789
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "互保助手", "username": "hubao_test_bot"}
JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "scope"}
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "blockquote",
    "tg-emoji",
}
_TAG = re.compile(r"</?([a-z-]+)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
FILE_CHUNK = 64 * 1024
SEND_BUFFER = 64 * 1024
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200
    """The HTTP status answered (200 means the call took effect)."""

    @property
    def delivered(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        raw = self.params.get("chat_id")
        return int(raw) if raw is not None else None

    @property
    def text(self) -> str:
        """The text a user sees (tags removed, entities decoded)."""
        return plain(str(self.params.get("text") or self.params.get("caption") or ""))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or [] if isinstance(markup, dict) else []
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


@dataclass
class Transfer:
    """One file download as the server saw it."""

    path: str
    size: int
    sent: int = 0
    """Bytes handed to the socket (what the client read, plus what the socket buffers held)."""
    complete: bool = False


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode, or None."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            if not m or m.group(1) not in ALLOWED_TAGS:
                return f"can't parse entities: unsupported start tag at byte offset {i}"
            if text[i + 1] == "/":
                if not stack or stack.pop() != m.group(1):
                    return f"can't parse entities: unmatched end tag at byte offset {i}"
            else:
                stack.append(m.group(1))
            i = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                return f"can't parse entities: unsupported entity at byte offset {i}"
            i = m.end()
        else:
            i += 1
    return f"can't parse entities: unclosed tag {stack[-1]}" if stack else None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class FakeBotApi:
    """Start with ``async with FakeBotApi() as api``; ``api.base_url`` is the API base."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.downloads: list[str] = []
        self.transfers: list[Transfer] = []
        self.webhook: dict[str, Any] | None = None
        self._queue: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._closing = False
        self._fail: dict[str, list[int]] = {}
        self._hang: dict[str, int] = {}
        self._release = asyncio.Event()
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, tuple[str, bytes, int | None]] = {}
        """file_id: (path, content, the size Telegram declares, None when it declares none)"""
        self._last_bot_message: dict[int, dict[str, Any]] = {}
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # --- life cycle ----------------------------------------------------------------------

    async def __aenter__(self) -> FakeBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._release.set()
        self._changed.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what users do -------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (the same dict twice is a redelivery)."""
        self._queue.append(update)
        self._wake()
        return update

    def message_update(
        self, chat_id: int, text: str, user_id: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._next_ids(chat_id)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "测试"},
            "from": _user(user_id or chat_id),
            **({"text": text} if text else {}),
            **extra,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return {"update_id": next(self._update_ids), "message": message}

    def press_update(self, chat_id: int, data: str, user_id: int | None = None) -> dict[str, Any]:
        message = self._last_bot_message.get(chat_id) or {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "测试"},
            "from": BOT_USER,
            "text": "旧消息",
        }
        query = {
            "id": f"cq{next(self._update_ids)}",
            "from": _user(user_id or chat_id),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def document_update(
        self,
        chat_id: int,
        name: str,
        data: bytes,
        size: int | None = None,
        user_id: int | None = None,
        declared: bool = True,
    ) -> dict[str, Any]:
        """A document message; ``size`` is the size Telegram reports (default: real size),
        in the message and in getFile; with ``declared=False`` neither reports one."""
        file_id = f"file{len(self._files) + 1}"
        reported = (len(data) if size is None else size) if declared else None
        self._files[file_id] = (_file_path(file_id, name), data, reported)
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "mime_type": "application/octet-stream",
            **({"file_size": reported} if reported is not None else {}),
        }
        return self.message_update(chat_id, "", user_id, document=document)

    def message(self, chat_id: int, text: str, user_id: int | None = None) -> dict[str, Any]:
        return self.push(self.message_update(chat_id, text, user_id))

    def press(self, chat_id: int, data: str, user_id: int | None = None) -> dict[str, Any]:
        return self.push(self.press_update(chat_id, data, user_id))

    def document(
        self, chat_id: int, name: str, data: bytes, size: int | None = None, declared: bool = True
    ) -> dict[str, Any]:
        return self.push(self.document_update(chat_id, name, data, size, declared=declared))

    # --- how Telegram misbehaves ---------------------------------------------------------

    def fail_next(self, method: str, retry_after: int = 1) -> None:
        """Answer the next ``method`` call with 429 Too Many Requests."""
        self._fail.setdefault(method, []).append(retry_after)

    def hang_next(self, method: str) -> None:
        """Deliver the next ``method`` call but withhold the answer until ``release``."""
        self._hang[method] = self._hang.get(method, 0) + 1

    def release(self) -> None:
        self._release.set()

    # --- what the tests look at ----------------------------------------------------------

    def called(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    def sent(self, chat_id: int) -> list[ApiCall]:
        """Messages delivered to a chat, in order."""
        return [c for c in self.called("sendMessage", chat_id) if c.delivered]

    def texts(self, chat_id: int) -> list[str]:
        return [c.text for c in self.sent(chat_id)]

    def last_buttons(self, chat_id: int) -> list[tuple[str, str]]:
        for call in reversed(self.sent(chat_id)):
            if call.buttons:
                return call.buttons
        return []

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until ``condition()`` holds; fail with the calls seen if it never does."""
        async with asyncio.timeout(timeout):
            while not condition():
                changed = self._changed
                await changed.wait()
        # A bound, not a timing assertion: the bot never got there.

    async def wait_for_texts(self, chat_id: int, count: int, timeout: float = 30.0) -> list[str]:
        try:
            await self.wait_for(lambda: len(self.sent(chat_id)) >= count, timeout)
        except TimeoutError:
            raise AssertionError(f"chat {chat_id} got {self.texts(chat_id)}") from None
        return self.texts(chat_id)

    # --- HTTP ----------------------------------------------------------------------------

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _next_ids(self, chat_id: int) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored, data, _ in self._files.values():
            if stored == path:
                self.downloads.append(path)
                self._wake()
                return await self._serve(request, path, data)
        return web.Response(status=404)

    async def _serve(self, request: web.Request, path: str, data: bytes) -> web.StreamResponse:
        """``data`` in chunks (no Content-Length), through a small send buffer, so what was
        sent tells how far the client read."""
        transfer = Transfer(path, len(data))
        self.transfers.append(transfer)
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        response = web.StreamResponse()
        response.content_type = "application/octet-stream"
        try:
            await response.prepare(request)
            for start in range(0, len(data), FILE_CHUNK):
                chunk = data[start : start + FILE_CHUNK]
                await response.write(chunk)
                transfer.sent += len(chunk)
            await response.write_eof()
            transfer.complete = True
        except (ConnectionError, RuntimeError):  # the client hung up
            pass
        finally:
            self._wake()
        return response

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = ApiCall(method, params, files)
        self.calls.append(call)
        try:
            if request.match_info["token"] != self.token:
                call.status = 401
                return _error(401, "Unauthorized")
            if self._fail.get(method):
                retry_after = self._fail[method].pop(0)
                call.status = 429
                return _error(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                call.status = 404
                return _error(404, "Not Found")
            result = await handler(call)
            if isinstance(result, web.Response):
                return result
            if self._hang.get(method):
                self._hang[method] -= 1
                self._wake()
                await self._release.wait()
            return web.json_response({"ok": True, "result": result})
        finally:
            self._wake()

    async def _m_getMe(self, call: ApiCall) -> Any:
        return {
            **BOT_USER,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, call: ApiCall) -> Any:
        if self.webhook is not None:
            call.status = 409
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(call.params.get("offset") or 0)
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(call.params.get("timeout") or 0)
        while not self._queue and not self._closing and loop.time() < deadline:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), deadline - loop.time())
            except TimeoutError:
                break
        return self._queue[: int(call.params.get("limit") or 100)]

    async def _m_setWebhook(self, call: ApiCall) -> Any:
        self.webhook = {
            "url": call.params.get("url"),
            "secret_token": call.params.get("secret_token"),
        }
        return True

    async def _m_deleteWebhook(self, call: ApiCall) -> Any:
        self.webhook = None
        return True

    async def _m_getWebhookInfo(self, call: ApiCall) -> Any:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def _m_setMyCommands(self, call: ApiCall) -> Any:
        return True

    async def _m_answerCallbackQuery(self, call: ApiCall) -> Any:
        return True

    async def _m_sendChatAction(self, call: ApiCall) -> Any:
        return True

    async def _m_sendMessage(self, call: ApiCall) -> Any:
        text = str(call.params.get("text") or "")
        if problem := self._refusal(call, text, 4096):
            return problem
        return self._bot_message(call, {"text": plain(text)})

    async def _m_editMessageText(self, call: ApiCall) -> Any:
        text = str(call.params.get("text") or "")
        if problem := self._refusal(call, text, 4096):
            return problem
        return self._bot_message(
            call, {"text": plain(text)}, message_id=int(call.params["message_id"])
        )

    async def _m_sendDocument(self, call: ApiCall) -> Any:
        caption = str(call.params.get("caption") or "")
        if problem := self._refusal(call, caption, 1024):
            return problem
        if "document" not in call.files:
            call.status = 400
            return _error(400, "Bad Request: there is no document in the request")
        name, data = call.files["document"]
        file_id = f"sent{len(self._files) + 1}"
        self._files[file_id] = (_file_path(file_id, name), data, len(data))
        document = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": name,
            "file_size": len(data),
        }
        return self._bot_message(call, {"document": document, "caption": plain(caption)})

    async def _m_getFile(self, call: ApiCall) -> Any:
        file_id = str(call.params.get("file_id"))
        if file_id not in self._files:
            call.status = 400
            return _error(400, "Bad Request: invalid file_id")
        path, data, size = self._files[file_id]
        if max(len(data), size or 0) > TELEGRAM_DOWNLOAD_LIMIT:
            call.status = 400
            return _error(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            **({"file_size": size} if size is not None else {}),
            "file_path": path,
        }

    def _refusal(self, call: ApiCall, text: str, limit: int) -> web.Response | None:
        problem = None
        if call.params.get("parse_mode") == "HTML":
            problem = html_problem(text)
        if problem is None and utf16_len(plain(text)) > limit:
            problem = "message is too long"
        if problem is None and call.method != "sendDocument" and not plain(text).strip():
            problem = "message text is empty"
        for _, data in call.buttons:
            if problem is None and not 1 <= len(data.encode()) <= 64:
                problem = "BUTTON_DATA_INVALID"
        if problem is None:
            return None
        call.status = 400
        return _error(400, f"Bad Request: {problem}")

    def _bot_message(
        self, call: ApiCall, content: dict[str, Any], message_id: int | None = None
    ) -> dict[str, Any]:
        chat_id = int(call.params["chat_id"])
        message = {
            "message_id": message_id or next(self._next_ids(chat_id)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "测试"},
            "from": BOT_USER,
            **content,
        }
        if "reply_markup" in call.params:
            message["reply_markup"] = call.params["reply_markup"]
            self._last_bot_message[chat_id] = message
        return message


def _file_path(file_id: str, name: str) -> str:
    """Where Telegram keeps a file; its own name, so never a lone surrogate from a user."""
    return f"documents/{file_id}_{name.encode('utf-8', 'ignore').decode()}"


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "测试", "language_code": "zh-hans"}


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read())
            else:
                params[name] = value
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            files[name] = files.pop(value[9:])
        elif name in JSON_FIELDS and isinstance(value, str):
            params[name] = json.loads(value)
    return params, files


async def post_update(url: str, update: dict[str, Any], secret: str | None) -> int:
    """Deliver ``update`` to a webhook as Telegram does; the HTTP status it answered."""
    return await post_body(url, json.dumps(update).encode(), secret)


async def post_body(url: str, body: bytes, secret: str | None, chunked: bool = False) -> int:
    """POST any ``body`` to a webhook as JSON (``chunked``: without a Content-Length); the
    HTTP status it answered."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), FILE_CHUNK):
            yield body[start : start + FILE_CHUNK]

    async with (
        ClientSession(timeout=ClientTimeout(total=60)) as session,
        session.post(url, data=pieces() if chunked else body, headers=headers) as response,
    ):
        await response.read()
        return response.status
