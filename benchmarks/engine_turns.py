"""Dialog engine throughput: 200 concurrent conversations of 20 turns each.

Prints turns per second and p50/p99 turn latency on the in-memory store, the default
SQLite file, and PostgreSQL when a URL is given (--pg postgresql://...), side by side.
Each conversation runs quote flows and knowledge-base questions, as handlers do.

    .venv/bin/python benchmarks/engine_turns.py [--pg URL] [--conversations 200] [--turns 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from bot.bootstrap import build_engine
from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.messages import Incoming
from flows.storage import ConversationKey, MemoryStorage, Storage
from flows.storage_factory import open_storage

SCRIPT = ["/quote", "A0 B0 C0", "8个人", "2023-07-01", "忘记密码怎么办", "导入模板最多多少人",
          "我们7月15日提交名单，什么时候开始保？", "保费交到哪里", "A0多少钱", "谢谢"]  # fmt: skip


async def run(
    storage: Storage, conversations: int, turns: int, data_dir: Path
) -> tuple[float, list[float]]:
    # A throwaway secret (as HUBAO_SECRET_KEY would give): no key file is written anywhere.
    settings = Settings(
        data_dir=data_dir,
        db_url=None,
        today=dt.date(2023, 7, 10),
        secret_key=secrets.token_hex(32),
    )
    engine = build_engine(settings, storage, FaqService(load_kb()))
    latencies: list[float] = []

    async def talk(n: int) -> None:
        key = ConversationKey("bench", str(n), str(n))
        for t in range(turns):
            t0 = time.perf_counter()
            await engine.handle(Incoming(key, f"{n}-{t}", text=SCRIPT[t % len(SCRIPT)]))
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(talk(n) for n in range(conversations)))
    return time.perf_counter() - start, latencies


def report(name: str, elapsed: float, latencies: list[float]) -> None:
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"{name:<12} {len(latencies) / elapsed:>8.0f} turns/s   p50 "
          f"{statistics.median(latencies) * 1e3:8.2f} ms   p99 {p99 * 1e3:8.2f} ms")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="PostgreSQL URL; omitted: PostgreSQL is not measured")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    print(f"{args.conversations} concurrent conversations x {args.turns} turns")
    with tempfile.TemporaryDirectory(prefix="hubao-bench-") as tmp:
        data_dir = Path(tmp)
        report("memory", *await run(MemoryStorage(), args.conversations, args.turns, data_dir))
        sqlite = await open_storage(None, data_dir)
        report("sqlite", *await run(sqlite, args.conversations, args.turns, data_dir))
        await sqlite.close()
        if args.pg:
            pg = await open_storage(args.pg)
            report("postgresql", *await run(pg, args.conversations, args.turns, data_dir))
            await pg.close()
        else:
            print("postgresql   not measured (pass --pg URL)")


if __name__ == "__main__":
    asyncio.run(main())
