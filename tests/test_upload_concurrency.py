"""A roster being read and checked holds no database lock: on SQLite every other
conversation (in this process or another one) is answered meanwhile."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

from flows.storage_factory import DB_FILE_NAME, open_storage

from helpers import engine, joined, key, roster_upload, text, upload

TODAY = dt.date(2023, 7, 10)
BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了", "上海测试有限公司"]


async def test_another_conversation_is_answered_while_a_5000_row_roster_is_checked(
    tmp_path: Path,
):
    storage = await open_storage(None, tmp_path)
    try:
        bot, unit, other = engine(storage, TODAY), key("unit"), key("other")
        for words in BEFORE_ROSTER:
            await bot.handle(text(unit, words))
        await bot.handle(text(other, "你好"))  # the knowledge base's index is built once
        name, data = roster_upload({"people": 5000})
        reading = asyncio.Event()

        async def progress(status: str) -> None:
            reading.set()

        task = asyncio.create_task(bot.handle(upload(unit, name, data), progress=progress))
        await asyncio.wait_for(reading.wait(), 60)
        answer = joined(await bot.handle(text(other, "忘记密码怎么办")))
        # Another process could take the write lock too, right now.
        probe = sqlite3.connect(tmp_path / DB_FILE_NAME, timeout=0.5)
        probe.execute("BEGIN IMMEDIATE")
        probe.rollback()
        probe.close()
        assert not task.done(), "the roster was checked before the other question was asked"
        assert "密码" in answer
        result = joined(await task)
        assert "可以参保5000人" in result
    finally:
        await storage.close()
