"""The chat page and its JSON API (documented in README):

- ``GET /``: the page; ``GET /api/history``: the session's conversation so far (the stored,
  masked transcript, the choices last offered, the files sent);
- ``POST /api/messages``: ``{"text": ...}`` or ``{"button": ...}`` (optional ``"id"``, the
  client's message id: a retried POST is answered once) -> ``{"replies": [...]}``;
- ``POST /api/upload`` (``chat_upload``); ``GET /api/files/<id>``: a file hubao sent, to
  the session it was sent to only.

A browser's session is a random identifier in the signed, HttpOnly cookie
``hubao_session``; a GET without a valid one starts a new session, a POST without one is
refused. Conversation key: ``ConversationKey("web", sid, sid)``.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

from aiohttp import web

from bot.web import chat_upload
from bot.web.chat_common import (
    LIMITS,
    admitted,
    file_url,
    keep_session,
    key_of,
    replies_json,
    session_of,
    session_or_new,
    valid_id,
)
from bot.web.context import WebContext, context_of
from bot.web.limits import Limits
from bot.web.security import refusal
from flows.engine.words import MAX_TEXT_CHARS
from flows.messages import Incoming
from rules.catalog import say
from rules.privacy import mask_personal_data

MAX_BODY = 64 * 1024
"""A message's JSON body; the engine's own limit on text is far below (MAX_TEXT_CHARS)."""
HISTORY_LINES = 500
"""The newest lines shown again after a reload: months of chat need not all come back."""
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "csv": "text/csv; charset=utf-8",
}


def setup(web_app: web.Application, ctx: WebContext) -> None:
    """Register the chat page's routes."""
    web_app[LIMITS] = Limits()
    web_app.router.add_get("/", chat_page)
    web_app.router.add_get("/api/history", history)
    web_app.router.add_post("/api/messages", post_message)
    web_app.router.add_post("/api/upload", chat_upload.post_upload)
    web_app.router.add_get("/api/files/{file_id}", get_file)


# --- the page and the history ----------------------------------------------------------------


async def chat_page(request: web.Request) -> web.Response:
    ctx = context_of(request)
    sid, _ = session_or_new(request)
    cap_mb = ctx.upload_cap // 1024 // 1024
    response = ctx.page("chat.html.j2", cap_mb=cap_mb, max_chars=MAX_TEXT_CHARS)
    keep_session(request, response, sid)  # also on a known session: the half year restarts
    return response


async def history(request: web.Request) -> web.Response:
    ctx = context_of(request)
    sid, new = session_or_new(request)
    key = key_of(sid)
    storage = ctx.app.storage
    lines = [] if new else (await storage.transcript(key))[-HISTORY_LINES:]
    files = [] if new else await storage.outbox.listing(key, ctx.now())
    response = web.json_response(
        {
            "messages": [
                # Stored masked already; masked again in case an older row was not.
                {"role": line.role, "text": mask_personal_data(line.text), "at": _iso(line.at)}
                for line in lines
            ],
            "choices": [] if new else await storage.offered(key),
            "files": [
                {"name": f.name, "url": file_url(f.file_id), "at": _iso(f.at)} for f in files
            ],
        }
    )
    if new:
        keep_session(request, response, sid)
    return response


def _iso(at: dt.datetime) -> str:
    """With its offset, so the page orders messages and files alike (a database may give
    the UTC time back without one)."""
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).isoformat()


# --- messages --------------------------------------------------------------------------------


async def post_message(request: web.Request) -> web.Response:
    ctx = context_of(request)
    sid = admitted(request, "message")
    if isinstance(sid, web.Response):
        return sid
    body = await read_limited(request, MAX_BODY)
    if body is None:
        return refusal(request, 413, say("web.chat.body_too_large", kb=MAX_BODY // 1024))
    parsed = parse_message(body)
    if isinstance(parsed, str):
        return refusal(request, 400, say(f"web.chat.bad_message.{parsed}"))
    text, button, message_id = parsed
    message = Incoming(key_of(sid), message_id, text=text, button=button)
    replies = await ctx.app.engine.handle(message)
    return web.json_response(await replies_json(ctx, key_of(sid), replies))


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, read in chunks; None as soon as it passes ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = bytearray()
    while chunk := await request.content.read(16 * 1024):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


def parse_message(body: bytes) -> tuple[str, str | None, str | None] | str:
    """(text, button, client message id), or the catalog word for what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "not_json"
    if not isinstance(data, dict):
        return "not_object"
    text, button, message_id = data.get("text"), data.get("button"), data.get("id")
    if (text is None) == (button is None):
        return "text_or_button"
    if not isinstance(text, str | None) or not isinstance(button, str | None):
        return "not_string"
    if (text is not None and not text.strip()) or (button is not None and not button):
        return "empty"
    if message_id is not None and not valid_id(message_id):
        return "bad_id"
    return text or "", button, message_id


# --- files -----------------------------------------------------------------------------------


async def get_file(request: web.Request) -> web.Response:
    ctx = context_of(request)
    sid = session_of(request)
    file_id = request.match_info["file_id"]
    kept = None
    if sid is not None and valid_id(file_id):
        kept = await ctx.app.storage.outbox.fetch(key_of(sid), file_id, ctx.now())
    if kept is None:  # another session's file looks exactly like no file at all
        raise web.HTTPNotFound()
    extension = kept.name.rsplit(".", 1)[-1].lower() if "." in kept.name else ""
    return web.Response(
        body=kept.data,
        headers={
            "Content-Type": CONTENT_TYPES.get(extension, "application/octet-stream"),
            "Content-Disposition": attachment(kept.name),
        },
    )


def attachment(name: str) -> str:
    """Content-Disposition with the UTF-8 name (RFC 6266/5987) and an ASCII stand-in for
    old clients."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
