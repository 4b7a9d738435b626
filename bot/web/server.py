"""``hubao web``: the aiohttp application (chat page, console, health check, static files)
and running it until stopped. Several processes may serve one PostgreSQL database behind a
load balancer: everything a request needs is in the database or in the signed cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from bot.bootstrap import App
from bot.web import chat, console
from bot.web.context import CONTEXT, WebContext
from bot.web.security import Signer, guard

log = logging.getLogger("hubao.web")
STATIC = Path(__file__).parent / "static"
BODY_SLACK = 64 * 1024
"""Room for the multipart envelope around an upload of the largest size allowed."""


def make_web_app(app: App, upload_cap: int) -> web.Application:
    ctx = WebContext(app=app, signer=Signer(app.settings.secret()), upload_cap=upload_cap)
    web_app = web.Application(middlewares=[guard], client_max_size=upload_cap + BODY_SLACK)
    web_app[CONTEXT] = ctx
    web_app.router.add_get("/healthz", _health)
    web_app.router.add_static("/static/", STATIC, append_version=True)
    chat.setup(web_app, ctx)
    console.setup(web_app, ctx)
    return web_app


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def serve(app: App, host: str, port: int, upload_cap: int) -> None:
    """Serve until SIGINT or SIGTERM, then finish the requests in progress."""
    runner = web.AppRunner(make_web_app(app, upload_cap), access_log=None, shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
        for address in runner.addresses:  # the real port when 0 was asked for
            # Read by tests and scripts that start the server on a free port.
            print(f"hubao web http://{host}:{int(address[1])}/", flush=True)
            break
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on every platform
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        sys.stdout.flush()
