"""``hubao telegram``: run the Telegram bot (python-telegram-bot, or aiogram on request).

Settings come from the environment (``bot.settings.Settings``, checked by
``TelegramConfig``); a setting that cannot be used stops the command with a Chinese
message and exit code 2 before anything starts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from rules.catalog import say

if TYPE_CHECKING:  # imported when the command runs: other commands need not load aiohttp
    from bot.settings import Settings
    from bot.telegram.config import TelegramConfig
    from bot.telegram.webhook import TelegramBot
    from flows.engine import Engine
    from flows.storage import Storage

LIBRARIES = ("ptb", "aiogram")
BotFactory = Callable[["Engine", "Storage", "TelegramConfig"], "TelegramBot"]


def add_telegram_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser(
        "telegram",
        help=say("bot.help.telegram"),
        description=say("bot.help.telegram_description"),
    )
    t.add_argument(
        "--library", choices=LIBRARIES, default="ptb", help=say("bot.help.telegram_library")
    )
    t.add_argument("--db", help=say("bot.help.telegram_db"))
    t.set_defaults(handler=cmd_telegram)


def bot_factory(library: str) -> BotFactory:
    """The bot class of ``library``, imported only when chosen."""
    if library == "aiogram":
        from bot.telegram.aiogram_bot import AiogramBot

        return AiogramBot
    from bot.telegram.ptb_bot import PtbBot

    return PtbBot


def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from bot.telegram.config import TelegramConfig

    settings = Settings.from_env()
    config = TelegramConfig.from_settings(settings.telegram)
    factory = bot_factory(args.library)
    if args.db:
        settings = replace(settings, db_url=args.db)
    _configure_logging()
    asyncio.run(serve(factory, config, settings))
    return 0


async def serve(factory: BotFactory, config: TelegramConfig, settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then finish the turns in progress."""
    from bot.bootstrap import open_app
    from bot.telegram.webhook import run_until_stopped

    app = await open_app(settings)
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_until_stopped(factory(app.engine, app.storage, config), stop)
    finally:
        await app.storage.close()


def _configure_logging() -> None:
    # Every line masked (tracebacks too); loggers whose request lines carry the bot token
    # kept to warnings.
    from bot.logs import setup_logging

    setup_logging(logging.INFO)
