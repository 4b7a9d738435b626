"""Roster check speed: `hubao roster check` against merely opening the file.

Generates a roster of 5000 people (the per-file limit) in a temporary folder, then prints,
in one run: the time of the full check (read by hubao's bounded streaming reader, every row
checked, unit checks), the time openpyxl's default loader takes merely to open the same
file, the same two for a file from a streaming writer (no size record), the time to write
the annotated report and the clean file, and the peak memory of the check (tracemalloc,
measured in a separate pass so it does not slow the timing).

    .venv/bin/python benchmarks/roster_check.py [--rows 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import openpyxl

from rules.policy import latest_policy_year
from rules.roster import RosterCheck, check_rows, check_unit
from sheets.roster_file import RosterFile, read_roster
from sheets.roster_write import write_clean, write_report

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
POLICY = latest_policy_year()


def id_number(rng: random.Random, i: int) -> str:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=i % 15000)
    first17 = (
        f"3101{rng.randrange(1, 20):02d}{birth:%Y%m%d}{i // 15000 % 100:02d}{rng.randrange(10)}"
    )
    return (
        first17
        + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
    )


def generate(path: Path, rows: int, *, streamed: bool = False) -> None:
    """A realistic roster: a title row, the template header, a few bad rows mixed in.

    Excel, WPS and openpyxl's normal writer record the sheet's size up front; streaming
    writers (``streamed``) do not, and openpyxl's read-only mode then parses the sheet
    once more just to size it, so both kinds are measured."""
    rng = random.Random(2023)
    wb = openpyxl.Workbook(write_only=streamed)
    if streamed:
        ws = wb.create_sheet("参保名单")
    else:
        ws = wb.active
        ws.title = "参保名单"
    ws.append(["某某有限公司2023年度互助保障参保名单"])
    ws.append(
        ["序号", "姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "手机号码", "是否有社保*"]
    )
    for i in range(rows):
        number = id_number(rng, i)
        if i % 97 == 0:
            number = number[:17] + ("0" if number[17] != "0" else "1")  # a typo
        si = "否" if i % 11 == 0 else "是"
        ws.append([i + 1, f"职工{i:04d}", "居民身份证", number, "", "", f"138{i:08d}", si])
    wb.save(path)


def check(path: Path) -> tuple[RosterFile, RosterCheck]:
    roster = read_roster(path, policy=POLICY)
    assert isinstance(roster, RosterFile), roster
    result = check_rows(
        roster.rows, policy=POLICY, start=POLICY.coverage.start, headers=roster.headers
    )
    check_unit(len(result.people), policy=POLICY, last_year=5200, si_payers=5300)
    return roster, result


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def show(name: str, times: list[float]) -> None:
    print(
        f"{name:<44} median {statistics.median(times) * 1000:8.1f} ms"
        f"   best {min(times) * 1000:8.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=POLICY.roster.max_rows_per_file)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "名单.xlsx"
        generate(path, args.rows)
        roster, result = check(path)
        print(
            f"roster: {args.rows} rows, {path.stat().st_size / 1024:.0f} KB;"
            f" {len(result.findings)} findings, {len(result.people)} importable"
        )
        full = timed(lambda: check(path), args.repeat)
        load = timed(lambda: openpyxl.load_workbook(path), args.repeat)
        show("full check (read-only read + rules)", full)
        show("openpyxl default load_workbook, load only", load)
        ratio = statistics.median(full) / statistics.median(load)
        print(f"{'check / default load':<44} {ratio:.2f}x")
        streamed = folder / "streamed.xlsx"
        generate(streamed, args.rows, streamed=True)
        show(
            "full check, file from a streaming writer", timed(lambda: check(streamed), args.repeat)
        )
        show(
            "default load, file from a streaming writer",
            timed(lambda: openpyxl.load_workbook(streamed), args.repeat),
        )
        show("write report", timed(lambda: write_report(folder / "r.xlsx", roster, result), 1))
        show(
            "write clean file",
            timed(lambda: write_clean(folder / "c.xlsx", result, policy=POLICY), 1),
        )

        tracemalloc.start()
        check(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        openpyxl.load_workbook(path)
        _, load_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{'peak memory, full check':<44} {peak / 1024 / 1024:8.1f} MB")
        print(f"{'peak memory, default load':<44} {load_peak / 1024 / 1024:8.1f} MB")


if __name__ == "__main__":
    main()
