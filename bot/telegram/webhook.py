"""The webhook endpoint Telegram posts updates to, and the running of a bot on either
library (``TelegramBot``: start, run until stopped, stop after the turns in progress).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.telegram.api import ALLOWED_UPDATES, ApiFailure, MalformedUpdate
from bot.telegram.channel import TelegramChannel
from bot.telegram.config import TelegramConfig, start_error

log = logging.getLogger("hubao.telegram")

WEBHOOK_BODY_LIMIT = 1024 * 1024
"""A real update is a few kilobytes; a bigger webhook request body is not read."""
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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


class TelegramBot(ABC):
    """A bot on one library: ``start`` returns once it receives updates; ``stop`` finishes
    the turns in progress and closes the connections."""

    config: TelegramConfig
    channel: TelegramChannel
    webhook: WebhookServer | None

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def set_webhook(self, url: str, secret: str | None, updates: list[str]) -> None:
        """setWebhook; the library's errors as the channel's (ApiFailure)."""

    async def start_webhook(self) -> None:
        """Listen for updates, then tell Telegram where to post them; a refusal stops the
        bot with the reason."""
        assert self.webhook is not None
        await self.webhook.start()
        try:
            await self.set_webhook(
                str(self.config.webhook_url), self.config.webhook_secret, list(ALLOWED_UPDATES)
            )
        except ApiFailure as exc:
            await self.stop()
            raise start_error("webhook_refused", reason=exc) from None


async def run_until_stopped(bot: TelegramBot, stop: asyncio.Event) -> None:
    await bot.start()
    mode = f"webhook on port {bot.webhook.port}" if bot.webhook else "long polling"
    log.info("hubao telegram bot running (%s)", mode)
    try:
        await stop.wait()
    finally:
        await bot.stop()
