"""The console's login, sessions and logout.

- Login throttling lives in the database, so every process behind a load balancer counts
  the same failures: after ``NAME_LIMIT`` failures for one account name, or
  ``ADDRESS_LIMIT`` from one address, within ``WINDOW``, every try is refused (even with
  the right password) until the window has passed.
- An unknown name and a wrong password get the same answer after the same scrypt work.
- A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps
  only its SHA-256 hash, with an expiry: a stolen database opens no session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.context import client_address, context_of
from bot.web.security import csrf_token, set_cookie
from bot.web.staff import MAX_NAME, MAX_PASSWORD, dummy_hash, valid_name, verify_password
from rules.catalog import say

COOKIE = "hubao_console"
SESSION = dt.timedelta(hours=8)
WINDOW = dt.timedelta(minutes=15)
NAME_LIMIT = 5
ADDRESS_LIMIT = 20
LOGIN = "/console/login"
HOME = "/console"
_USER = web.RequestKey("hubao_console_user", str)
Page = Callable[[web.Request], Awaitable[web.StreamResponse]]


def see_other(location: str) -> web.Response:
    """A redirect returned, not raised: it passes the security headers' middleware."""
    return web.Response(status=303, headers={"Location": location})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def session_user(request: web.Request) -> str | None:
    """The account whose live session the request's cookie holds."""
    token = request.cookies.get(COOKIE, "")
    if not 16 <= len(token) <= 128:
        return None
    ctx = context_of(request)
    return await ctx.app.storage.staff.session_user(token_hash(token), ctx.now())


def signed_in(handler: Page) -> Page:
    """A console page: only with a live session, else off to the login page."""

    async def page(request: web.Request) -> web.StreamResponse:
        user = await session_user(request)
        if user is None:
            return see_other(LOGIN)
        request[_USER] = user
        return await handler(request)

    return page


def user_of(request: web.Request) -> str:
    return request[_USER]


def _login_page(
    request: web.Request, status: int = 200, error: str = "", name: str = ""
) -> web.Response:
    return context_of(request).page(
        "console_login.html.j2",
        status=status,
        csrf=csrf_token(request),
        error=error,
        name=name,
        max_name=MAX_NAME,
        max_password=MAX_PASSWORD,
    )


async def login_page(request: web.Request) -> web.StreamResponse:
    if await session_user(request) is not None:
        return see_other(HOME)
    return _login_page(request)


def _subjects(request: web.Request, name: str) -> tuple[str, str]:
    # Behind a proxy every request comes from the proxy: see README on X-Forwarded-For.
    return f"name:{name[: MAX_NAME * 2]}", f"address:{client_address(request)}"


async def login(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    staff = ctx.app.storage.staff
    form = await request.post()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    now = ctx.now()
    by_name, by_address = _subjects(request, name)
    since = now - WINDOW
    if (
        await staff.failures(by_name, since) >= NAME_LIMIT
        or await staff.failures(by_address, since) >= ADDRESS_LIMIT
    ):
        minutes = int(WINDOW.total_seconds() // 60)
        return _login_page(request, 429, say("web.console.login.throttled", minutes=minutes), name)
    stored = await staff.password_hash(name) if valid_name(name) else None
    # The same scrypt work whether or not the account exists: no timing tell.
    good = verify_password(password, stored or dummy_hash()) and stored is not None
    if not good:
        await staff.note_failure(by_name, now)
        await staff.note_failure(by_address, now)
        return _login_page(request, 401, say("web.console.login.wrong"), name)
    await staff.clear_failures(by_name)
    token = secrets.token_urlsafe(32)
    await staff.open_session(token_hash(token), name, now + SESSION)
    response = see_other(HOME)
    set_cookie(request, response, COOKIE, token, max_age=int(SESSION.total_seconds()))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE, "")
    if token:
        await context_of(request).app.storage.staff.close_session(token_hash(token))
    response = see_other(LOGIN)
    response.del_cookie(COOKIE, path="/")
    return response
