"""Scale beyond one machine: two bot processes in webhook mode on one PostgreSQL database.

Updates for the same chats are posted to both processes, alternating, and every update is
also redelivered to the other process at the same time (as Telegram does when an answer is
lost). Like Telegram, a chat's next update is posted only once the previous one has been
answered; the chats themselves run concurrently. Every turn must be answered exactly once
and in order: each chat sees exactly what one engine says to its messages.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from fake_bot_api import TOKEN, FakeBotApi, post_update

from flows.messages import Incoming
from flows.storage import ConversationKey, MemoryStorage
from rules.catalog import say

pytest.importorskip(
    "flows.storage_factory", reason="needs the SQL storage (flows.storage_factory) to share"
)
asyncpg = pytest.importorskip("asyncpg", reason="needs asyncpg for PostgreSQL")

from helpers import engine  # noqa: E402

SECRET = "scale-test-secret"
Script = list[tuple[str, str]]
SCRIPTS: dict[int, Script] = {
    101: [("say", "/quote"), ("press", "v:A0 B0 C0"), ("say", "8个人"),
          ("press", "v:2023-07-11"), ("say", "/start"), ("say", "A0多少钱")],
    102: [("say", "/quote"), ("say", "B0 C0"), ("say", "5个有社保3个没有"),
          ("say", "2023年7月11日"), ("press", "redo:quote:plans"), ("say", "A0 B0")],
    103: [("say", "/start"), ("press", "flow:quote"), ("say", "A0"), ("say", "4个人"),
          ("say", "返回上一步"), ("say", "6人")],
    104: [("say", "火星上能参保吗"), ("say", "/quote"), ("say", "A0 B0 C0 A1"),
          ("say", "12个人"), ("press", "v:2023-07-11"), ("say", "/cancel")],
}  # fmt: skip


async def reference(script: Script) -> list[str]:
    eng = engine(MemoryStorage())
    key = ConversationKey("telegram", "1", "1")
    texts: list[str] = []
    for kind, value in script:
        message = Incoming(key, text=value) if kind == "say" else Incoming(key, button=value)
        texts += [r.text.strip() or say("bot.telegram.choose") for r in await eng.handle(message)]
    return texts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def database(server_url: str) -> AsyncIterator[str]:
    """A fresh database on the session's PostgreSQL server (tests/conftest.py)."""
    from sqlalchemy.engine import make_url

    server = make_url(server_url)
    name = f"hubao_scale_{uuid.uuid4().hex[:12]}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(
            host=server.host, port=server.port, user=server.username,
            password=server.password, database=server.database,
        )  # fmt: skip
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    await execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql", database=name).render_as_string(False)
    finally:
        await execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def bot_process(
    library: str, port: int, api: FakeBotApi, db_url: str, log: Path
) -> AsyncIterator[str]:
    """``hubao telegram`` in webhook mode as a separate process; yields its webhook URL."""
    env = {
        **os.environ,
        "HUBAO_TELEGRAM_TOKEN": TOKEN,
        "HUBAO_TELEGRAM_API_BASE": api.base_url,
        "HUBAO_WEBHOOK_URL": "https://hubao.example.cn/telegram/hook",
        "HUBAO_WEBHOOK_SECRET": SECRET,
        "HUBAO_WEBHOOK_HOST": "127.0.0.1",
        "HUBAO_WEBHOOK_PORT": str(port),
        "HUBAO_DB_URL": db_url,
        "HUBAO_TODAY": "2023-07-10",
        "HUBAO_DATA_DIR": str(log.parent),
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "telegram", "--library", library,
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
        try:
            await _until_healthy(process, port, log)
            yield f"http://127.0.0.1:{port}/telegram/hook"
        finally:
            if process.returncode is None:
                process.terminate()  # SIGTERM: finish the turns in progress, then exit
            code = await process.wait()
    assert code == 0, log.read_text(errors="replace")[-3000:]


async def _until_healthy(process: asyncio.subprocess.Process, port: int, log: Path) -> None:
    for _ in range(300):  # a bound on start-up (importing, migrating), not a timing check
        if process.returncode is not None:
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError("bot process did not start:\n" + log.read_text(errors="replace"))


async def talk(api: FakeBotApi, chat: int, urls: list[str]) -> None:
    """The chat's script, each update posted to one process and redelivered to the other
    at once; the next one only after both were answered, as Telegram delivers a chat."""
    for i, (kind, value) in enumerate(SCRIPTS[chat]):
        if kind == "press":
            assert value in [data for _, data in api.last_buttons(chat)]
            update = api.press_update(chat, value)
        else:
            update = api.message_update(chat, value)
        first, second = urls[(chat + i) % 2], urls[(chat + i + 1) % 2]
        statuses = await asyncio.gather(
            post_update(first, update, SECRET), post_update(second, update, SECRET)
        )
        assert statuses == [200, 200]


@pytest.mark.parametrize("libraries", [("ptb", "ptb"), ("ptb", "aiogram")])
async def test_two_processes_on_one_database_answer_every_turn_once_in_order(
    libraries, postgres_server, tmp_path
):
    async with FakeBotApi() as api, database(postgres_server) as db_url:
        async with (
            bot_process(libraries[0], _free_port(), api, db_url, tmp_path / "a.log") as a,
            bot_process(libraries[1], _free_port(), api, db_url, tmp_path / "b.log") as b,
        ):
            await asyncio.gather(*(talk(api, chat, [a, b]) for chat in SCRIPTS))
        for chat, script in SCRIPTS.items():
            assert api.texts(chat) == await reference(script), f"chat {chat}"
        assert len(api.called("setWebhook")) == 2
