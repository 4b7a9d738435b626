"""What every web request goes through.

- ``Signer``: cookie values signed with a key derived from HUBAO_SECRET_KEY (HMAC-SHA256),
  so a browser cannot forge or alter its session identifier.
- CSRF by double submit: every POST carries header ``X-Hubao-CSRF`` (or, for a plain HTML
  form, field ``csrf``) equal to the cookie ``hubao_csrf`` the pages set; other sites can
  neither read that cookie nor set the header.
- Headers on every answer: a Content-Security-Policy allowing only this origin's own
  scripts, styles and images (no inline script), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from rules.catalog import say

CSRF_COOKIE = "hubao_csrf"
CSRF_HEADER = "X-Hubao-CSRF"
CSRF_FIELD = "csrf"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
log = logging.getLogger("hubao.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Signer:
    """Signs short cookie values: ``value.signature``; a changed value or signature fails."""

    def __init__(self, secret: bytes, purpose: str = "hubao-web-cookie") -> None:
        # A key of its own: a cookie signature never doubles as an ID hash or a seal.
        self._key = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()

    def _mac(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, value: str) -> str:
        return f"{value}.{self._mac(value)}"

    def unsign(self, signed: str | None) -> str | None:
        """The value, if ``signed`` carries a valid signature; None otherwise."""
        if not signed or "." not in signed:
            return None
        value, mac = signed.rsplit(".", 1)
        return value if hmac.compare_digest(mac, self._mac(value)) else None


_NEW_CSRF = web.RequestKey("hubao_new_csrf", str)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(request: web.Request) -> str:
    """The page's CSRF token: the browser's cookie, or a new one set on this answer."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 16 <= len(token) <= 64:
        return token
    new = request.get(_NEW_CSRF) or new_token()
    request[_NEW_CSRF] = new
    return new


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def refusal(request: web.Request, status: int, message: str) -> web.Response:
    """An error answer: JSON for the API, a short page otherwise."""
    if wants_json(request):
        return web.json_response({"error": message}, status=status)
    return web.Response(text=message, status=status, content_type="text/plain", charset="utf-8")


_HTTP_WORDS = {404: "not_found", 405: "method", 413: "too_large"}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """CSRF check on every POST, security headers and the CSRF cookie on every answer;
    errors answered in Chinese (JSON under /api/), never with a traceback."""
    response: web.StreamResponse
    if request.method == "POST" and not await _csrf_ok(request):
        response = refusal(request, 403, say("web.base.csrf"))
        return _headers(request, response)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        words = _HTTP_WORDS.get(exc.status, "bad_request" if exc.status < 500 else "internal")
        response = refusal(request, exc.status, say(f"web.base.{words}"))
    except Exception:
        log.exception("web request %s %s failed", request.method, request.path)
        response = refusal(request, 500, say("web.base.internal"))
    return _headers(request, response)


async def _csrf_ok(request: web.Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.content_type == "application/x-www-form-urlencoded":
        field = (await request.post()).get(CSRF_FIELD)
        given = field if isinstance(field, str) else ""
    return bool(cookie) and hmac.compare_digest(given.encode(), cookie.encode())


def is_https(request: web.Request) -> bool:
    """Behind a TLS proxy the request arrives as http: the proxy's header says so (it only
    ever makes cookies stricter)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    http_only: bool = True,
    max_age: int | None = None,
) -> None:
    """A first-party cookie: SameSite=Strict, Secure over HTTPS, HttpOnly unless the page's
    script must read it (the CSRF token)."""
    response.set_cookie(
        name,
        value,
        path="/",
        samesite="Strict",
        httponly=http_only,
        secure=is_https(request),
        max_age=max_age,
    )


def _headers(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    if not response.prepared:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        csrf_token(request)  # every answer hands a browser without one its token
        if new := request.get(_NEW_CSRF):
            set_cookie(request, response, CSRF_COOKIE, new, http_only=False)
    return response
