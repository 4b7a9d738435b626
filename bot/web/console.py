"""The hotline team's console (console helper fills this in)."""

from __future__ import annotations

from aiohttp import web

from bot.web.context import WebContext


def setup(web_app: web.Application, ctx: WebContext) -> None:
    """Register the console's routes."""
