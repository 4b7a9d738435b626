"""The web channel over HTTP: `hubao web` started as its own process (SQLite in a temporary
data folder, or PostgreSQL with --pg URL), driven by concurrent browser sessions through the
JSON API (each a caller of its own behind a trusted proxy), each sending its next message
after the previous answer, as the page does.

Prints turns per second and p50/p99 latency of `POST /api/messages`, beside the page and
health-check latencies, so a slow middleware shows apart from a slow engine.

    .venv/bin/python benchmarks/web_api.py [--sessions 50] [--turns 10] [--pg URL]

--turns stays within the per-session limit (30 messages a minute), as a person's would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

SCRIPT = ["/quote", "A0 B0 C0", "8个人", "2023-07-11", "忘记密码怎么办", "导入模板最多多少人",
          "我们7月15日提交名单，什么时候开始保？", "保费交到哪里", "A0多少钱", "谢谢"]  # fmt: skip
LISTENING = re.compile(rb"hubao web (http://\S+)")


async def start_server(
    data_dir: Path, db_url: str | None
) -> tuple[asyncio.subprocess.Process, str]:
    env = {**os.environ, "HUBAO_DATA_DIR": str(data_dir), "HUBAO_TODAY": "2023-07-10",
           "HUBAO_SECRET_KEY": "benchmark-secret-key-0123456789",
           "HUBAO_WEB_TRUST_PROXY": "1"}  # fmt: skip
    if db_url:
        env["HUBAO_DB_URL"] = db_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "web", "--port", "0",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    while line := await process.stdout.readline():
        if found := LISTENING.search(line):
            return process, found.group(1).decode()
    raise SystemExit("hubao web did not start")


async def session(url: str, number: int, turns: int, latencies: list[float]) -> None:
    jar = aiohttp.CookieJar(unsafe=True)
    # Each session as a caller of its own behind a proxy: the per-address limit (120
    # messages a minute) is for one office, not for a whole benchmark.
    address = {"X-Forwarded-For": f"10.0.{number // 250}.{number % 250 + 1}"}
    async with aiohttp.ClientSession(cookie_jar=jar, headers=address) as client:
        async with client.get(url) as page:
            await page.read()
        token = next(c.value for c in jar if c.key == "hubao_csrf")
        for i in range(turns):
            started = time.perf_counter()
            async with client.post(
                url + "api/messages",
                json={"text": SCRIPT[i % len(SCRIPT)]},
                headers={"X-Hubao-CSRF": token},
            ) as answer:
                assert answer.status == 200, await answer.text()
                await answer.read()
            latencies.append(time.perf_counter() - started)


async def timed_gets(url: str, path: str, count: int) -> list[float]:
    async with aiohttp.ClientSession() as client:
        out = []
        for _ in range(count):
            started = time.perf_counter()
            async with client.get(url + path) as answer:
                await answer.read()
            out.append(time.perf_counter() - started)
        return out


def ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=10, choices=range(1, 31), metavar="1-30")
    parser.add_argument("--pg", help="PostgreSQL URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, url = await start_server(Path(folder), args.pg)
        try:
            health = await timed_gets(url, "healthz", 200)
            page = await timed_gets(url, "", 200)
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(
                *(session(url, n, args.turns, latencies) for n in range(args.sessions))
            )
            elapsed = time.perf_counter() - started
        finally:
            process.terminate()
            await process.wait()
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"hubao web on {backend}: {args.sessions} sessions x {args.turns} messages")
    print(f"  GET /healthz       p50 {ms(health, 50):6.1f} ms  p99 {ms(health, 99):6.1f} ms")
    print(f"  GET / (the page)   p50 {ms(page, 50):6.1f} ms  p99 {ms(page, 99):6.1f} ms")
    print(
        f"  POST /api/messages p50 {ms(latencies, 50):6.1f} ms  p99 {ms(latencies, 99):6.1f} ms"
        f"  {len(latencies) / elapsed:7.1f} turns/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
