"""What the chat API's handlers share: the browser's session (a random id in the signed,
HttpOnly cookie ``hubao_session``), its conversation key, the rate limits, and the engine's
replies as the API's JSON (files kept in the outbox and linked)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.web.context import WebContext, client_address, context_of
from bot.web.limits import Kind, Limits
from bot.web.security import refusal, set_cookie
from flows.messages import Reply
from flows.storage import ConversationKey
from rules.catalog import say

SESSION_COOKIE = "hubao_session"
SESSION_MAX_AGE = 180 * 24 * 3600
"""The cookie lasts half a year: a unit's handler comes back to a conversation next term."""
MAX_ID_CHARS = 64
LIMITS = web.AppKey("hubao_chat_limits", Limits)


def session_of(request: web.Request) -> str | None:
    """The session id from a validly signed cookie; None otherwise."""
    sid = context_of(request).signer.unsign(request.cookies.get(SESSION_COOKIE))
    if sid and len(sid) <= MAX_ID_CHARS:
        return sid
    return None


def key_of(sid: str) -> ConversationKey:
    return ConversationKey("web", sid, sid)


def session_or_new(request: web.Request) -> tuple[str, bool]:
    """The session id, and whether it is new (to be set as a cookie on the answer)."""
    sid = session_of(request)
    return (sid, False) if sid else (secrets.token_urlsafe(24), True)


def keep_session(request: web.Request, response: web.StreamResponse, sid: str) -> None:
    ctx = context_of(request)
    signed = ctx.signer.sign(sid)
    set_cookie(request, response, SESSION_COOKIE, signed, max_age=SESSION_MAX_AGE)


def admitted(request: web.Request, kind: Kind) -> str | web.Response:
    """The request's session when it has one and is within the limits; otherwise the
    answer to send (403 without a session, 429 over a limit)."""
    sid = session_of(request)
    if sid is None:
        return refusal(request, 403, say("web.chat.no_session"))
    wait = request.app[LIMITS].admit(kind, sid, client_address(request))
    if not wait:
        return sid
    answer = refusal(request, 429, say(f"web.chat.too_many_{kind}s", seconds=wait))
    answer.headers["Retry-After"] = str(wait)
    return answer


def valid_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isprintable()


def file_url(file_id: str) -> str:
    return f"/api/files/{quote(file_id, safe='')}"


async def replies_json(
    ctx: WebContext, key: ConversationKey, replies: Sequence[Reply]
) -> dict[str, Any]:
    """The engine's replies as the API's JSON; their files kept for download."""
    out = []
    for reply in replies:
        files = []
        for file in reply.files:
            file_id = await ctx.app.storage.outbox.keep(key, file.name, file.data, ctx.now())
            files.append({"name": file.name, "url": file_url(file_id)})
        choices = [{"label": c.label, "value": c.value} for c in reply.choices]
        out.append({"text": reply.text, "choices": choices, "files": files})
    return {"replies": out}
