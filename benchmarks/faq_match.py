"""Knowledge-base matching speed: hubao's matcher against a plain rapidfuzz baseline.

Prints, in one run: questions per second in-process over a batch of 10,000 questions,
p50/p99 per question (as the hotline's tools ask, and as chat asks: flow intents ranked
with the entries), the cold start of `hubao ask` (a fresh process answering one
question), and the same in-process figures for rapidfuzz.process.extractOne over all
phrasings. The batch mixes knowledge-base phrasings with small edits and unrelated text.

    .venv/bin/python benchmarks/faq_match.py [--n 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process

from faq.answer import FaqService
from faq.kb import load_kb

NOISE = ["请问", "你好，", "麻烦问下", "", "", "急！", "我们单位"]
TAILS = ["", "？", "吗", "怎么办", "，谢谢", "啊"]
UNRELATED = ["明天会下雨吗", "公积金怎么提取", "给我讲个笑话", "个税怎么申报", "医保卡丢了"]


def questions(n: int, phrasings: list[str]) -> list[str]:
    rng = random.Random(20231)
    out = []
    for _ in range(n):
        if rng.random() < 0.1:
            out.append(rng.choice(UNRELATED))
            continue
        q = rng.choice(phrasings)
        if len(q) > 4 and rng.random() < 0.3:
            i = rng.randrange(len(q))
            q = q[:i] + q[i + 1 :]  # a dropped character, as typed in a hurry
        out.append(rng.choice(NOISE) + q + rng.choice(TAILS))
    return out


def measure(name: str, answer: Callable[[str], object], batch: list[str]) -> None:
    times = []
    start = time.perf_counter()
    for q in batch:
        t0 = time.perf_counter()
        answer(q)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    p50 = statistics.median(times)
    print(
        f"{name:<32} {len(batch) / total:>8.0f} q/s"
        f"   p50 {p50 * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms"
    )


def cold_start() -> float:
    hubao = Path(sys.executable).with_name("hubao")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HUBAO_DATA_DIR": tmp, "PATH": "/usr/bin:/bin"}
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([str(hubao), "ask", "忘记密码怎么办"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            runs.append(time.perf_counter() - t0)
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    kb = load_kb()
    service = FaqService(kb)
    _ = service.matcher  # build the index now, not inside the first question
    build = time.perf_counter() - t0
    choices = [p for e in kb.business for p in e.phrasings]
    batch = questions(args.n, choices)
    print(f"knowledge base: {sum(1 for _ in kb.business)} entries, {len(choices)} phrasings; "
          f"load + index {build * 1e3:.0f} ms")  # fmt: skip
    print(f"batch: {len(batch)} questions")
    measure("hubao matcher (FaqService.ask)", service.ask, batch)
    measure("chat: entries and intents", lambda q: service.ask(q, intents=True), batch)
    measure("rapidfuzz extractOne (WRatio)",
            lambda q: process.extractOne(q, choices, scorer=fuzz.WRatio), batch)  # fmt: skip
    print(f"cold start `hubao ask` (best of 3): {cold_start() * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
