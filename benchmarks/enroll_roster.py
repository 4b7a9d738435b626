"""Guided enrollment with a big roster, through the engine as a channel drives it.

For rosters of 30 (a small unit), 1000 and 5000 people (the per-file limit), on in-memory
storage and on the SQLite file: the time of the upload turn (read, check, seal, claims,
annotated workbook), of a fix made in chat ("删除第2行", which saves the draft again), of
the summary turn (quote, clean roster and summary workbook), and the size of the saved
conversation state.

    .venv/bin/python benchmarks/enroll_roster.py [--sizes 30,1000,5000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from roster_check import generate

from bot.bootstrap import build_engine
from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile
from flows.storage import ConversationKey, MemoryStorage, Storage
from flows.storage_factory import open_storage

TODAY = dt.date(2023, 7, 10)
TO_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了", "上海基准测试有限公司"]


async def turn(bot: Engine, key: ConversationKey, message: Incoming) -> float:
    start = time.perf_counter()
    await bot.handle(message)
    return (time.perf_counter() - start) * 1000


async def state_size(storage: Storage, key: ConversationKey) -> int:
    size = 0

    class Peek(Exception):
        pass

    try:
        async with storage.turn(key, None) as t:
            size = len(json.dumps(t.state.to_json(), ensure_ascii=False).encode())
            raise Peek
    except Peek:
        pass
    return size


async def run(storage: Storage, faq: FaqService, roster: bytes, label: str, rows: int) -> None:
    settings = Settings(Path("/nonexistent"), None, TODAY, "benchmark-secret-0123456789")
    bot = build_engine(settings, storage, faq)
    key = ConversationKey("bench", label, label)
    for words in TO_ROSTER:
        await bot.handle(Incoming(key, None, text=words))
    upload = await turn(bot, key, Incoming(key, None, file=IncomingFile("名单.xlsx", roster)))
    fix = await turn(bot, key, Incoming(key, None, text="删除所有有问题的行"))
    size = await state_size(storage, key)
    for words in ["下一步", str(rows), str(rows)]:
        await bot.handle(Incoming(key, None, text=words))
    summary = await turn(bot, key, Incoming(key, None, text="A0 B0 C0"))
    print(
        f"{label:<8}{rows:>6} rows   upload {upload:8.0f} ms   fix in chat {fix:7.0f} ms"
        f"   summary {summary:7.0f} ms   draft {size / 1024:7.0f} KB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,1000,5000")
    args = parser.parse_args()
    faq = FaqService(load_kb())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rows in (int(n) for n in args.sizes.split(",")):
            path = folder / f"{rows}.xlsx"
            generate(path, rows)
            data = path.read_bytes()
            await run(MemoryStorage(), faq, data, "memory", rows)
            sqlite = await open_storage(None, folder / f"db{rows}")
            try:
                await run(sqlite, faq, data, "sqlite", rows)
            finally:
                await sqlite.close()


if __name__ == "__main__":
    asyncio.run(main())
