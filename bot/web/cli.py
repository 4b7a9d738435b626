"""``hubao web``: serve the chat page and the console; ``hubao web add-user NAME``: create a
console account (or set a new password for it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from rules.catalog import say

if TYPE_CHECKING:  # imported when the command runs: other commands need not load aiohttp
    from bot.settings import Settings


def add_web_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    w = sub.add_parser(
        "web", help=say("web.help.web"), description=say("web.help.web_description")
    )
    w.add_argument("--host", default="127.0.0.1", help=say("web.help.host"))
    w.add_argument("--port", type=int, default=8080, help=say("web.help.port"))
    w.add_argument("--db", help=say("bot.help.db"))
    w.set_defaults(handler=cmd_web)
    users = w.add_subparsers(dest="web_command")
    add = users.add_parser("add-user", help=say("web.help.add_user"))
    add.add_argument("name", help=say("web.help.user_name"))
    # SUPPRESS: `hubao web --db URL add-user NAME` keeps the URL given before the name.
    add.add_argument("--db", default=argparse.SUPPRESS, help=say("bot.help.db"))
    add.set_defaults(handler=cmd_add_user)


def cmd_web(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging
    from bot.settings import Settings, upload_cap_mb

    settings = Settings.from_env()
    if args.db:
        settings = replace(settings, db_url=args.db)
    cap = upload_cap_mb(settings.telegram) * 1024 * 1024
    setup_logging(logging.INFO)
    asyncio.run(_serve(settings, args.host, args.port, cap))
    return 0


async def _serve(settings: Settings, host: str, port: int, cap: int) -> None:
    from bot.bootstrap import open_app
    from bot.web.server import serve

    app = await open_app(settings)
    try:
        await serve(app, host, port, cap)
    finally:
        await app.storage.close()


def cmd_add_user(args: argparse.Namespace) -> int:
    from bot.web.staff import add_user_command

    return add_user_command(args.name, args.db)
