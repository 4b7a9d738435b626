"""``POST /api/upload``: a roster sent from the page (multipart, field ``file``; optional
field ``id``, the client's message id), read in chunks and refused as soon as it passes
HUBAO_MAX_UPLOAD_MB, then one engine turn. With ``Accept: application/x-ndjson`` the answer
is a stream of lines: ``{"progress": "..."}`` while a big roster is checked, then the
replies object (or ``{"error": ...}``); otherwise plain JSON as for a message.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from bot.web.chat_common import admitted, key_of, replies_json, valid_id
from bot.web.context import context_of
from bot.web.security import CSP, refusal
from flows.messages import Incoming, IncomingFile
from rules.catalog import say

log = logging.getLogger("hubao.web")
NDJSON = "application/x-ndjson"
CHUNK = 64 * 1024
ENVELOPE = 64 * 1024
"""Room for the multipart envelope (boundaries, headers, the id field) around a file."""


class _TooLarge(Exception):
    pass


async def post_upload(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    sid = admitted(request, "upload")
    if isinstance(sid, web.Response):
        return sid
    cap = ctx.upload_cap
    too_large = refusal(request, 413, say("web.chat.upload_too_large", limit=cap // 1024 // 1024))
    if request.content_length is not None and request.content_length > cap + ENVELOPE:
        return too_large
    if request.content_type != "multipart/form-data":
        return refusal(request, 400, say("web.chat.bad_upload"))
    try:
        found = await _read_form(request, cap)
    except _TooLarge:
        return too_large
    except ValueError:  # not multipart at all, or a broken envelope
        found = None
    if found is None:
        return refusal(request, 400, say("web.chat.bad_upload"))
    name, data, message_id = found
    message = Incoming(key_of(sid), message_id, file=IncomingFile(name, data))
    engine = ctx.app.engine
    if NDJSON not in request.headers.get("Accept", ""):
        return web.json_response(
            await replies_json(ctx, key_of(sid), await engine.handle(message))
        )

    response = web.StreamResponse(
        headers={
            "Content-Type": f"{NDJSON}; charset=utf-8",
            "Cache-Control": "no-store",
            # The security middleware cannot add its headers to a stream begun here.
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)

    async def progress(text: str) -> None:
        # The page may have gone away: the check still finishes and its result is kept.
        with contextlib.suppress(ConnectionError):
            await response.write(_line({"progress": text}))

    final: dict[str, Any]
    try:
        final = await replies_json(ctx, key_of(sid), await engine.handle(message, progress))
    except Exception:
        log.exception("upload turn failed")
        final = {"error": say("web.base.internal")}
    try:
        await response.write(_line(final))
        await response.write_eof()
    except ConnectionError:
        log.info("upload answer not delivered: the page went away")
    return response


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8")


async def _read_form(request: web.Request, cap: int) -> tuple[str, bytes, str | None] | None:
    """(file name, content, client message id) from the form; None without a file."""
    reader = await request.multipart()
    name, data, message_id = "", b"", None
    have_file = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            await part.release()  # a nested multipart: not ours
            continue
        if part.name == "file" and not have_file:
            name, data, have_file = _file_name(part), await _read_part(part, cap), True
        elif part.name == "id":
            given = (await _read_part(part, 256, too_large=None)).decode("utf-8", "replace")
            message_id = given if valid_id(given) else None
        else:
            await part.release()
    return (name, data, message_id) if have_file else None


def _file_name(part: BodyPartReader) -> str:
    """The file's name as the user sees it. Some clients (aiohttp's own) send a UTF-8 name
    percent-encoded inside ``filename="..."``; browsers send it raw."""
    name = part.filename or ""
    if "%" in name:
        with contextlib.suppress(UnicodeDecodeError):
            decoded = unquote(name, errors="strict")
            if not decoded.isascii():
                return decoded
    return name


async def _read_part(
    part: BodyPartReader, cap: int, too_large: type[Exception] | None = _TooLarge
) -> bytes:
    """The part's content, read in chunks; past ``cap`` it raises ``too_large`` (or, when
    that is None, keeps the first ``cap`` bytes and drops the rest)."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > cap:
            if too_large is not None:
                raise too_large
            await part.release()
            return bytes(data[:cap])
    return bytes(data)
