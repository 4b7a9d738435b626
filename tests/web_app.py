"""Helpers for the web tests: the web application on memory storage, driven by aiohttp's
test client, with the CSRF cookie and header handled as the page's script does."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import App, knowledge_base
from bot.settings import Settings
from bot.web.security import CSRF_COOKIE, CSRF_HEADER
from bot.web.server import make_web_app
from faq.answer import FaqService
from flows.storage import MemoryStorage, Storage

SECRET = "web-tests-secret-key-0123456789abcdef"
TODAY = dt.date(2023, 7, 10)


def web_settings(tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {"today": TODAY, "secret_key": SECRET, **changes}
    return Settings(data_dir=tmp_path, db_url="memory", **values)


@asynccontextmanager
async def web_client(
    tmp_path: Path,
    storage: Storage | None = None,
    upload_cap: int = 10 * 1024 * 1024,
    **settings: Any,
) -> AsyncIterator[TestClient[Any, Any]]:
    """A test client on a fresh app (``settings`` change the test settings); its first GET
    sets the session and CSRF cookies."""
    app = App(
        web_settings(tmp_path, **settings),
        FaqService(knowledge_base()),
        storage or MemoryStorage(),
    )
    client = TestClient(TestServer(make_web_app(app, upload_cap)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def csrf(client: TestClient[Any, Any]) -> dict[str, str]:
    """The header a POST needs: the value of the browser's CSRF cookie."""
    for cookie in client.session.cookie_jar:
        if cookie.key == CSRF_COOKIE:
            return {CSRF_HEADER: cookie.value}
    raise AssertionError("no CSRF cookie yet: GET a page first")
