"""``hubao telegram``: run the Telegram bot (python-telegram-bot, or aiogram on request).

Settings come from the environment (see ``TelegramConfig.from_env``); a setting that cannot
be used stops the command with a Chinese message and exit code 2 before anything starts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.settings import SettingsError

if TYPE_CHECKING:  # imported when the command runs: other commands need not load aiohttp
    from bot.telegram_common import TelegramBot, TelegramConfig
    from flows.engine import Engine
    from flows.storage import Storage

LIBRARIES = ("ptb", "aiogram")
BotFactory = Callable[["Engine", "Storage", "TelegramConfig"], "TelegramBot"]
_MISSING = (
    "没有安装 {package}。请先运行 pip install '{extra}'，"
    "或去掉 --library 参数使用默认的 python-telegram-bot。"
)


def add_telegram_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = sub.add_parser(
        "telegram",
        help="运行 Telegram 机器人",
        description=(
            "运行互保助手 Telegram 机器人。令牌等设置从环境变量读取："
            "HUBAO_TELEGRAM_TOKEN（必填）、HUBAO_WEBHOOK_URL 与 HUBAO_WEBHOOK_SECRET"
            "（webhook 模式）、HUBAO_ADMIN_IDS、HUBAO_TELEGRAM_API_BASE。"
        ),
    )
    t.add_argument(
        "--library",
        choices=LIBRARIES,
        default="ptb",
        help="用哪个库运行：ptb（python-telegram-bot，默认）或 aiogram",
    )
    t.add_argument(
        "--db", help="数据库地址（默认 HUBAO_DB_URL 或本机 SQLite 文件；多进程请用 PostgreSQL）"
    )
    t.set_defaults(handler=cmd_telegram)


def bot_factory(library: str) -> BotFactory:
    """The bot class of ``library``, imported only when chosen (each is an optional extra)."""
    try:
        if library == "aiogram":
            from bot.telegram_aiogram import AiogramBot

            return AiogramBot
        from bot.telegram_ptb import PtbBot

        return PtbBot
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in {"telegram", "aiogram"}:
            raise
        package = "aiogram" if library == "aiogram" else "python-telegram-bot"
        extra = f"hubao[{'aiogram' if library == 'aiogram' else 'telegram'}]"
        raise SettingsError(_MISSING.format(package=package, extra=extra)) from exc


def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.telegram_common import TelegramConfig

    config = TelegramConfig.from_env()
    factory = bot_factory(args.library)
    _configure_logging()
    asyncio.run(serve(factory, config, getattr(args, "db", None)))
    return 0


async def serve(factory: BotFactory, config: TelegramConfig, db_url: str | None) -> None:
    """Run until SIGINT or SIGTERM, then finish the turns in progress."""
    from bot.bootstrap import open_app
    from bot.telegram_common import run_until_stopped

    app = await open_app(db_url=db_url)
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.telegram_cli telegram ...`` (same as ``hubao telegram ...``)."""
    parser = argparse.ArgumentParser(prog="hubao")
    add_telegram_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
