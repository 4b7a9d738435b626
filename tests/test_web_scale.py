"""Scale beyond one machine: two `hubao web` processes on one PostgreSQL database, as
behind a load balancer without sticky sessions.

Each browser session's messages go to the two processes in turn (the next one after the
previous answer, as the page sends them); the sessions run concurrently. Every turn must be
answered once and in order: each session reads exactly what one engine says to its
messages, and its history is the same whichever process is asked.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from test_telegram_scale import SCRIPTS, _free_port, _until_healthy, database

from flows.messages import Incoming
from flows.storage import ConversationKey, MemoryStorage

from helpers import engine

SECRET = "web-scale-test-secret-0123456789"


async def reference(script: list[tuple[str, str]]) -> list[str]:
    eng = engine(MemoryStorage())
    key = ConversationKey("web", "s", "s")
    texts: list[str] = []
    for kind, value in script:
        message = Incoming(key, text=value) if kind == "say" else Incoming(key, button=value)
        texts += [r.text.strip() for r in await eng.handle(message)]
    return texts


@asynccontextmanager
async def web_process(port: int, db_url: str, log: Path) -> AsyncIterator[str]:
    env = {
        **os.environ,
        "HUBAO_DB_URL": db_url,
        "HUBAO_TODAY": "2023-07-10",
        "HUBAO_DATA_DIR": str(log.parent),
        "HUBAO_SECRET_KEY": SECRET,  # processes behind one balancer share the key
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "web", "--port", str(port),
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
        try:
            await _until_healthy(process, port, log)
            yield f"http://127.0.0.1:{port}/"
        finally:
            if process.returncode is None:
                process.terminate()
            code = await process.wait()
    assert code == 0, log.read_text(errors="replace")[-3000:]


def _csrf(session: aiohttp.ClientSession) -> dict[str, str]:
    token = next(c.value for c in session.cookie_jar if c.key == "hubao_csrf")
    return {"X-Hubao-CSRF": token}


async def talk(chat: int, urls: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The chat's script as one browser session; its replies and its history."""
    texts: list[str] = []
    choices: list[str] = []
    # Both processes are on 127.0.0.1: one cookie jar, as one browser behind one address.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(urls[0]) as page:
            assert page.status == 200
        for i, (kind, value) in enumerate(SCRIPTS[chat]):
            if kind == "press":
                assert value in choices, (chat, i, value, choices)
                body = {"button": value}
            else:
                body = {"text": value}
            url = urls[(chat + i) % 2] + "api/messages"
            async with session.post(url, json=body, headers=_csrf(session)) as answer:
                assert answer.status == 200, await answer.text()
                replies = (await answer.json())["replies"]
            texts += [r["text"].strip() for r in replies]
            offered = [c["value"] for r in replies for c in r["choices"]]
            choices = offered or choices
        histories = []
        for url in urls:
            async with session.get(url + "api/history") as answer:
                histories.append((await answer.json())["messages"])
    assert histories[0] == histories[1]
    return texts, histories[0]


async def test_two_web_processes_on_one_database_answer_each_session_in_order(
    postgres_server, tmp_path
):
    async with (
        database(postgres_server) as db_url,
        web_process(_free_port(), db_url, tmp_path / "a.log") as a,
        web_process(_free_port(), db_url, tmp_path / "b.log") as b,
    ):
        results = await asyncio.gather(*(talk(chat, [a, b]) for chat in SCRIPTS))
    for (chat, script), (texts, history) in zip(SCRIPTS.items(), results, strict=True):
        assert texts == await reference(script), f"session {chat}"
        said = [m["text"] for m in history if m["role"] == "user"]
        assert len(said) == len(script), f"session {chat}: {said}"
