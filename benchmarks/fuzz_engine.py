"""Engine fuzzing: many seeded conversations of random and hostile messages, buttons and
files through the real engine; every exception and every suspicious reply is recorded.

Each conversation either replays a script of tests/conversations/*.yaml with hostile turns
put in and swapped in (so the enrollment and the quote are reached deep), or walks at
random: typical phrases (the knowledge base's questions and phrasings, the scripts' lines)
with noise, control characters, odd Unicode, template and SQL lookalikes, very long texts,
commands, the buttons the last reply offered and forged ones, and files (rosters, CSV,
random bytes, truncated and fake workbooks).

Flagged replies: no reply at all, an empty text or button, a raw template marker ({{ {% {#)
or a Python repr (Traceback, None, {' ['...) the user did not type, or a template the user
typed that got evaluated. Control characters and bidi overrides echoed back, and slow
turns, are listed as notes (not failures).

    .venv/bin/python benchmarks/fuzz_engine.py [--messages 10000] [--seed 1]
        [--storage memory|sqlite|URL] [--show 5]
    .venv/bin/python benchmarks/fuzz_engine.py --seed 1 --replay 37   # one conversation

A replay runs the conversations before the one replayed quietly (they share the storage:
a roster claimed in one conversation is a duplicate in another), then prints every turn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import io
import random
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import yaml

from bot.bootstrap import build_engine
from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.engine import MAX_TEXT_CHARS, Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey, MemoryStorage, Storage
from flows.storage_factory import open_storage

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "tests" / "conversations").glob("*.yaml"))
TODAYS = [
    dt.date(2023, 6, 10), dt.date(2023, 7, 10), dt.date(2023, 12, 31), dt.date(2024, 2, 29),
    dt.date(2024, 6, 30), dt.date(2025, 3, 1),
]  # fmt: skip
SLOW_TURN_S = 3.0
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CANARY, CANARY_VALUE = "7*7777", "54439"
"""A template a user types; its value in a reply means the template was evaluated."""

# --- what users send ----------------------------------------------------------------------

CONTROL = [
    "\x00", "a\x00b", "\x1b]0;pwned\x07", "\a", "\x1b[31m红色\x1b[0m", "\x1b[2J", "\r\n\r\n",
    "\t\t", "\x7f", "\x08" * 8, "\u2028", "\u0085", "\ufeff", "\x0c", "\x1c\x1d\x1e",
]  # fmt: skip
ODD_UNICODE = [
    "\u202e参保\u202c", "\u202eA0 B0 C0", "\u200b", "\u200b\u200b\u200b", "8\u200b个人",
    "\u2060", "\u200d", "a\u0301\u0301\u0301\u0301", "参\u0300\u0301\u0302保",
    "Z\u0335\u0321\u0327\u031b" * 20, "８个人", "１２３", "Ａ０ Ｂ０ Ｃ０", "十二个人",
    "贰拾人", "٣", "३", "፩", "᧚", "①", "⑴", "²", "½", "\u3000", "\u3000\u3000我要参保\u3000",
    "ﾃｽﾄ", "𠀀𠀁𠀂", "\U000e0041", "\ufffd", "\uffff", "\U0010ffff", "İ", "ß", "ﬁ", "㍱", "㋀",
    "⓪", "〇个人", "零",
]  # fmt: skip
EMOJI = [
    "😀", "😀😀😀", "👨‍👩‍👧‍👦", "🇨🇳", "🏳️‍🌈", "👍🏽", "🙏", "❤️", "🤔？", "💰多少钱",
    "1️⃣", "#️⃣",
]  # fmt: skip
TEMPLATE = [
    "{{ 7*7777 }}", "{{7*7777}}", "{% for x in range(10**9) %}x{% endfor %}", "{# 注释", "{%",
    "}}", "{{ config }}", "{{ ''.__class__.__mro__ }}", "{{ title }}", "${7*7777}",
    "%s %d %(name)s", "{0}", "{}", "{title}", "{{ say('welcome') }}", "#{7*7777}",
    "单位名称：{{ 7*7777 }}有限公司",
]  # fmt: skip
SQL = [
    "'; DROP TABLE conversations; --", "1 OR 1=1", '" OR ""="', "Robert'); DROP TABLE x;--",
    "' UNION SELECT * FROM transcript --", "%", "_", "\\", "'", '"', "`", "--", "/*", "*/",
]  # fmt: skip
MARKUP = [
    "<b>粗体</b>", "<script>alert(1)</script>", "*_`[链接](http://x)`_*", "&amp;&lt;", "</b>",
    "[", "(a+)+$", ".*", "\\d+", "$1", "\\u0000", "\\x00", "None", "null", "undefined", "NaN",
    "True", "[]", "{}", "{'a': 1}",
]  # fmt: skip
NUMBERS = [
    "0", "-1", "-5", "1", "2", "3", "9", "10", "99", "100", "5000", "5001", "99999999",
    "99999999999999999999", "1e309", "-0", "0x1F", "1_000", "3.5", "1/0", "inf", "-inf",
    "9" * 300, "0" * 50 + "1", "1,000", "1，000", "10万", "三", "两", "半", "8个人", "0个人",
    "-3个人", "100000个人", "3.7个人", "1e3个人", "职保3个非职保2个", "去年5200人", "去年0人",
    "去年-1人", "第0行", "第-1行", "第99999行", "删除第1到99999行", "删除第3行到第2行",
    "删除2到4行", "保留第5行",
]  # fmt: skip
DATES = [
    "2023-02-30", "0000-00-00", "9999-12-31", "1900-01-01", "2023年13月45日", "2月29日",
    "12/31", "31.12.2099", "明年", "上个月", "昨天", "今天", "明天", "后天", "大后天",
    "10000年1月1日", "2023-7-1", "7.20", "7月32日", "0月0日", "2024-02-29", "2023-02-29",
    "下周五", "下下周一", "月底", "年底", "2038-01-19", "1970-01-01", "20230701", "230701",
    "7/1/2023", "七月一号", "十二月三十一日", "2023年", "6月", "周日", "最早", "最晚",
]  # fmt: skip
COMMANDS = [
    "/start", "/menu", "/back", "/cancel", "/restart", "/help", "/human", "/xyz", "/quote",
    "/enroll", "/status", "/coverage", "/account", "/__init__", "/_flows", "/START",
    "/start@hubao_bot", "/ start", "/", "//", "/a_b_c", "/" + "a" * 500, "/forget", "菜单",
    "返回", "取消", "重来", "人工", "帮助", "上一步", "继续", "接着办", "算了", "删除我的数据",
    "1", "2", "3", "10", "0", "１", "1.", "1。",
]  # fmt: skip
FILLER = "的了是我你他在有个这那吗呢吧啊哦嗯和与及或不没要会能可以把被让给对向从到为"
FILE_NAMES = [
    "名单.xlsx", "参保名单.xlsx", "名单.XLSX", "名单.csv", "名单.xls", "名单.txt", "名单.pdf",
    "名单", ".xlsx", "", "../../../etc/passwd", "..\\..\\名单.xlsx", "a" * 300 + ".xlsx",
    "名单\x00.xlsx", "名单.xlsx.exe", "con.xlsx", "\u202eslx.exe", "{{7*7777}}.xlsx",
    "名单 (1).xlsx",
]  # fmt: skip
FORGED_BUTTONS = [
    "cmd:forget", "cmd:start", "cmd:help", "cmd:cancel", "cmd:back", "cmd:restart",
    "cmd:human", "cmd:xyz", "cmd:", "cmd:start:extra", "flow:enroll", "flow:quote",
    "flow:status", "flow:coverage", "flow:account", "flow:nonexistent", "flow:",
    "flow:__init__", "faq:", "faq:nonexistent", "faq:enroll", "redo:quote:start",
    "redo:quote:plans", "redo:quote:people", "redo:enroll:roster", "redo:nonexistent:x",
    "redo:", "redo:quote:", "v:yes", "v:no", "v:模板", "v:done", "v:A0 B0 C0", "v:A0 B0 C0 A1",
    "v:B0 C0", "v:keep-over-age", "v:drop-problems", "v:unknown", "v:没有", "v:有", "v:是",
    "v:不选", "v:2023-07-01", "v:9999-12-31", "v:0000-00-00", "v:", "v:" + "x" * 5000,
    "v:\x00", "v:{{ 7*7777 }}", "v:-1", "v:99999999", "", ":", "::::", "garbage", "1", "None",
    "v:None", "\x00", "faq:" + "x" * 300, "v:A9 Z9", "v:A0 A0 A0", "v:A1 A2",
]  # fmt: skip


@dataclass(frozen=True)
class Action:
    """One message: ``kind`` is "text", "button" or "file" (``value`` is then its name)."""

    kind: str
    value: str
    data: bytes = b""
    echo: str = ""
    """What the user sent that a reply may fairly repeat (a file's cell texts)."""
    message_id: str | None = None

    def incoming(self, key: ConversationKey) -> Incoming:
        if self.kind == "button":
            return Incoming(key, self.message_id, button=self.value)
        if self.kind == "file":
            return Incoming(key, self.message_id, file=IncomingFile(self.value, self.data))
        return Incoming(key, self.message_id, text=self.value)

    def describe(self, limit: int = 160) -> str:
        if self.kind == "file":
            return f"file {self.value[:80]!r} ({len(self.data)} bytes, {self.data[:24]!r}...)"
        shown = repr(self.value[:limit]) + (
            f"...(len {len(self.value)})" if len(self.value) > limit else ""
        )
        return f"{self.kind} {shown}"

    def code(self) -> str:
        """A Python expression rebuilding the message's content (short values only)."""
        if self.kind == "file":
            return f"IncomingFile({self.value!r}, <{len(self.data)} bytes>)"
        if len(self.value) > 300:
            return f"{self.kind}={self.value[:20]!r} * ... (len {len(self.value)})"
        return f"{self.kind}={self.value!r}"


# --- files --------------------------------------------------------------------------------

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
HEADER = ["序号", "姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "手机号码", "是否有社保*"]


def id_number(born: dt.date, *, male: bool = True, seq: int = 1) -> str:
    first17 = f"310101{born:%Y%m%d}{seq % 100 * 10 + (1 if male else 2):03d}"
    return (
        first17
        + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
    )


def xlsx(rows: Sequence[Sequence[Any]], header: Sequence[Any] | None = HEADER) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保名单"
    if header is not None:
        ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def roster_rows(spec: dict[str, Any]) -> list[list[Any]]:
    """Rows as tests/conversations scripts describe them (see tests/test_conversations)."""
    people: list[dict[str, Any]] = [{} for _ in range(int(spec.get("people", 0)))]
    people += list(spec.get("rows", []))
    rows = []
    for i, person in enumerate(people, start=1):
        born = person.get("born", dt.date(1975, 1, 1) + dt.timedelta(days=i))
        if isinstance(born, str):
            born = dt.date.fromisoformat(born)
        female = person.get("sex") == "女"
        number = person.get("id") or id_number(born, male=not female, seq=i)
        rows.append(
            [
                i,
                str(person.get("name", f"员工{i}")),
                "居民身份证",
                str(number),
                person.get("sex", ""),
                "",
                "",
                person.get("si", "是"),
            ]
        )
    return rows


@cache
def scripted_upload(spec_key: str) -> tuple[str, bytes]:
    spec = yaml.safe_load(spec_key)
    name = str(spec.get("file", "参保名单.xlsx"))
    if "raw" in spec:
        return name, str(spec["raw"]).encode("utf-8")
    return name, xlsx(roster_rows(spec))


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
    header: Sequence[Any] | None = HEADER,
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


@cache
def hostile_files() -> list[tuple[str, bytes, str]]:
    """(name, bytes, echo): built once, deterministic."""
    rng = random.Random(2023)
    good = roster_rows({"people": 6})
    nasty_names = [
        "{{7*7777}}",
        "None",
        '=HYPERLINK("http://x","点我")',
        "@SUM(1+1)",
        "+1",
        "-1",
        "张" * 3000,
        "😀王",
        "\u202e三张",
        "王\u200b五",
        "李\u0301四",
        "",
        "'; DROP TABLE x;--",
        "<b>赵六</b>",
        "{% raw %}",
    ]
    nasty = [
        [
            i,
            name,
            "居民身份证",
            id_number(dt.date(1980, 1, 1) + dt.timedelta(days=i), seq=i),
            "",
            "",
            "",
            "是",
        ]
        for i, name in enumerate(nasty_names, 1)
    ]
    odd_cells = [
        [
            1,
            "王一",
            "居民身份证",
            310101198001010011,
            "男",
            dt.datetime(1980, 1, 1),
            13800000000,
            "是",
        ],
        [2, "王二", "居民身份证", 3.10101198001e17, "女", "1980/13/45", "x", "否"],
        [3, "王三", "护照", "E12345678", "未知", -1, None, "也许"],
        [4, "王四", None, None, None, None, None, None],
        [5, 12345, "居民身份证", "31010119800101001X", True, 0.5, "", " 是 "],
        [None, None, None, None, None, None, None, None],
        ["序号", "姓名*", "证件类型*", "证件号码*", "性别", "出生日期", "手机号码", "是否有社保*"],
        [6, "王六", "居民身份证", "310101" + "9" * 12, "男", "", "", "是"],
    ]
    valid = xlsx(good)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("hello.txt", "不是表格")
        z.writestr("[Content_Types].xml", "<Types/>")
    far = openpyxl.Workbook()
    far.active.append(HEADER)
    far.active.append(good[0])
    far.active.cell(200000, 8, "是")
    far_out = io.BytesIO()
    far.save(far_out)
    many = openpyxl.Workbook()
    for n in range(30):
        many.create_sheet(f"表{n}").append(["说明"])
    many.save(many_out := io.BytesIO())
    big = [
        [
            i,
            f"员工{i}",
            "居民身份证",
            id_number(dt.date(1970, 1, 1) + dt.timedelta(days=i % 15000), seq=i // 15000),
            "",
            "",
            "",
            "是",
        ]
        for i in range(1, 5003)
    ]
    files = [
        ("参保名单.xlsx", valid, ""),
        ("名单.xlsx", xlsx(roster_rows({"people": 1})), ""),
        (
            "名单.xlsx",
            xlsx(
                roster_rows(
                    {
                        "people": 3,
                        "rows": [
                            {"name": "错号", "id": "3101"},
                            {"name": "老王", "born": "1955-01-01"},
                        ],
                    }
                )
            ),
            "",
        ),
        ("名单.xlsx", xlsx(nasty), " ".join(nasty_names)),
        ("名单.xlsx", xlsx(odd_cells), "王一 王二 王三 王四 王六 E12345678 也许 未知"),
        ("名单.xlsx", xlsx([]), ""),
        ("名单.xlsx", xlsx([[rng.random() for _ in range(8)] for _ in range(5)], header=None), ""),
        ("名单.xlsx", valid[: len(valid) // 2], ""),
        ("名单.xlsx", valid[:30], ""),
        ("名单.xlsx", zipped.getvalue(), ""),
        ("名单.xlsx", far_out.getvalue(), ""),
        ("名单.xlsx", many_out.getvalue(), ""),
        ("名单.xlsx", bytes(rng.randrange(256) for _ in range(2000)), ""),
        ("名单.xlsx", b"", ""),
        (
            "名单.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng.randrange(256) for _ in range(600)),
            "",
        ),
        ("名单.csv", csv_bytes(good), ""),
        ("名单.csv", csv_bytes(good, encoding="gbk"), ""),
        ("名单.csv", csv_bytes(good, delimiter=";"), ""),
        ("名单.csv", csv_bytes(good, encoding="utf-16"), ""),
        (
            "名单.csv",
            csv_bytes([["1", "a\x00b", "\x1b]0;pwned\x07", "x" * 3000]]),
            "a\x00b \x1b]0;pwned\x07",
        ),
        ("名单.csv", csv_bytes([], header=["一列"]), ""),
        ("名单.csv", b"\xff\xfe\x00\x00garbage", ""),
        ("名单.csv", b"\n\n\n,,,,\n", ""),
        ("名单.csv", csv_bytes(nasty), " ".join(nasty_names)),
        ("名单.csv", csv_bytes(big), ""),
        ("名单.txt", "你好".encode(), ""),
        ("图片.jpg", b"\xff\xd8\xff\xe0" + bytes(100), ""),
    ]
    return files


# --- text generation ----------------------------------------------------------------------


@cache
def phrases() -> tuple[str, ...]:
    kb = load_kb()
    found: list[str] = []
    for entry in list(kb.by_id.values()) + list(kb.intents.values()):
        found.append(entry.question)
        found.extend(getattr(entry, "phrasings", None) or [])
    for script in scripts():
        found.extend(str(t["say"]) for t in script["turns"] if "say" in t)
    return tuple(dict.fromkeys(p for p in found if isinstance(p, str)))


@cache
def scripts() -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for path in SCRIPTS:
        out.extend(yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER))
    return tuple(out)


@cache
def faq_ids() -> tuple[str, ...]:
    return tuple(load_kb().by_id)


def random_chars(rng: random.Random, n: int) -> str:
    pools = [
        lambda: chr(rng.randrange(0x4E00, 0x9FA6)),
        lambda: chr(rng.randrange(0x20, 0x7F)),
        lambda: rng.choice(FILLER),
        lambda: chr(rng.randrange(0x20, 0xD7FF)),
        lambda: chr(rng.choice([rng.randrange(0xE000, 0xFFFE), rng.randrange(0x10000, 0x10FFFF)])),
        lambda: rng.choice("0123456789０１２３４５６７８９一二三四五六七八九十百千万个人月日号年"),
        lambda: rng.choice(" \t\n，。！？、；：“”（）【】"),
    ]
    weights = [30, 20, 15, 5, 3, 15, 12]
    out = []
    for _ in range(n):
        pool = rng.choices(pools, weights)[0]
        ch = pool()
        if 0xD800 <= ord(ch) <= 0xDFFF:  # channels clean lone surrogates
            ch = "?"
        out.append(ch)
    return "".join(out)


def noisy(rng: random.Random, phrase: str) -> str:
    """A phrase with noise: inserted junk, repeats, cut, odd spacing or case."""
    pick = rng.randrange(9)
    junk = rng.choice(CONTROL + ODD_UNICODE + EMOJI + TEMPLATE + SQL + MARKUP)
    if pick == 0:
        at = rng.randrange(len(phrase) + 1)
        return phrase[:at] + junk + phrase[at:]
    if pick == 1:
        return phrase + junk
    if pick == 2:
        return junk + phrase
    if pick == 3:
        return phrase[: rng.randrange(len(phrase) + 1)]
    if pick == 4:
        return " ".join(phrase)
    if pick == 5:
        return "，".join([phrase] * rng.randrange(2, 6))
    if pick == 6:
        return phrase + rng.choice(NUMBERS + DATES)
    if pick == 7:
        return "".join(c + "\u200b" for c in phrase)
    other = rng.choice(phrases())
    return phrase + rng.choice(["", "，", "。", " ", "\n"]) + other


LONG_UNITS = ["我要参保", "删除第1行，", "9", "九", "1个", "1 ", "1月", "1.", "A0 B0 C0 ",
              "{{ 7*7777 }}", "那10个人呢", "不对，是10个人", "保费交到哪里", "x"]  # fmt: skip


def long_text(rng: random.Random) -> str:
    """Around the engine's limit and far beyond it: repeated units, which also find
    regular expressions slow on long runs of digits or numerals."""
    size = rng.choice(
        [MAX_TEXT_CHARS - 1, MAX_TEXT_CHARS, MAX_TEXT_CHARS + 1, 1990, 4000, 100_000, 5_000_000]
    )
    roll = rng.random()
    if roll < 0.1:
        return " " * size + "你好"  # strips to 2 characters
    unit = random_chars(rng, 500) if roll < 0.2 else rng.choice(LONG_UNITS)
    return (unit * (size // len(unit) + 1))[:size]


def hostile_text(rng: random.Random) -> str:
    group = rng.choices(
        [CONTROL, ODD_UNICODE, EMOJI, TEMPLATE, SQL, MARKUP, NUMBERS, DATES, COMMANDS, None],
        [8, 10, 5, 8, 5, 5, 12, 12, 14, 3],
    )[0]
    if group is None:
        return long_text(rng)
    return rng.choice(group)


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(phrases())
    if roll < 0.55:
        return noisy(rng, rng.choice(phrases()))
    if roll < 0.85:
        return hostile_text(rng)
    return random_chars(rng, rng.choice([1, 2, 5, 20, 80, 300]))


def random_file(rng: random.Random) -> Action:
    name, data, echo = rng.choice(hostile_files())
    if rng.random() < 0.15:
        name = rng.choice(FILE_NAMES)
    return Action("file", name, data, echo)


def forged_button(rng: random.Random, seen: Sequence[str]) -> str:
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(FORGED_BUTTONS)
    if roll < 0.7 and seen:
        return rng.choice(seen)  # offered in an earlier turn, now stale
    if roll < 0.85:
        return "faq:" + rng.choice(faq_ids())
    return rng.choice(["v:", "cmd:", "flow:", "faq:", "redo:", ""]) + random_text(rng)[:200]


# --- conversations ------------------------------------------------------------------------


@dataclass
class Failure:
    kind: str  # "exception" or the flag's name
    conversation: int
    turn: int
    action: Action
    detail: str
    state: str = ""
    frames: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    root: str = ""
    """What groups failures of one cause: the exception and its deepest frame of ours."""


@dataclass
class Totals:
    messages: int = 0
    failures: list[Failure] = field(default_factory=list)
    notes: list[Failure] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    """flow:step after each turn, counted when asked (--states)."""
    track_states: bool = False

    @property
    def exceptions(self) -> list[Failure]:
        return [f for f in self.failures if f.kind == "exception"]

    @property
    def flagged(self) -> list[Failure]:
        return [f for f in self.failures if f.kind != "exception"]


MARKERS = [
    "{{",
    "{%",
    "{#",
    "Traceback",
    "None",
    "{'",
    "['",
    "object at 0x",
    "<flows.",
    "Error:",
    "Exception",
]
CONTROL_OUT = {
    chr(c)
    for c in [
        *range(0, 9),
        11,
        12,
        *range(14, 32),
        127,
        *range(0x80, 0xA0),
        0x202A,
        0x202B,
        0x202C,
        0x202D,
        0x202E,
        0x2066,
        0x2067,
        0x2068,
        0x2069,
    ]
}


def _unechoed(text: str, marker: str, echoable: list[str]) -> int:
    """Where ``marker`` stands in ``text`` not as a repeat of what the user sent (a user's
    "{{ 7*7777 }}" said back is no leak: the same characters follow the marker, up to six
    or the end of what the user sent); -1 if nowhere."""
    sent = [e for e in echoable if marker in e]
    at = text.find(marker)
    while at >= 0:
        if not any(_same_after(text, at, e, marker) for e in sent):
            return at
        at = text.find(marker, at + 1)
    return -1


def _same_after(text: str, at: int, sent: str, marker: str) -> bool:
    j = sent.find(marker)
    while j >= 0:
        n = min(len(marker) + 6, len(sent) - j, len(text) - at)
        if text[at : at + n] == sent[j : j + n]:
            return True
        j = sent.find(marker, j + 1)
    return False


def check_replies(
    replies: list[Reply], progress: list[str], echoable: list[str], duplicate: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(flags, notes) for one turn's replies: (name, detail)."""
    flags: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    if not replies and not duplicate:
        flags.append(("no reply", "the turn returned no replies"))
    texts: list[str] = list(progress)
    for reply in replies:
        if not reply.text.strip():
            flags.append(("empty text", repr(reply)[:300]))
        texts.append(reply.text)
        for choice in reply.choices:
            if not choice.label.strip() or not choice.value:
                flags.append(("empty button", repr(choice)[:200]))
            texts.append(choice.label)
        texts.extend(f.caption for f in reply.files)
    for text in texts:
        for marker in MARKERS:
            if (at := _unechoed(text, marker, echoable)) >= 0:
                flags.append((f"marker {marker}", repr(text[max(0, at - 60) : at + 60])))
        if CANARY_VALUE in text and any(CANARY in e for e in echoable):
            flags.append(("template evaluated", repr(text[:200])))
        bad = {c for c in text if c in CONTROL_OUT}
        if bad and any(c in e for e in echoable for c in bad):
            at = min(text.index(c) for c in bad)
            notes.append(("control echoed", repr(text[max(0, at - 40) : at + 40])))
    return flags, notes


SOURCES: dict[str, list[str]] = {}
"""Our modules' lines as loaded: the files may change while a long run goes on."""


def ours(filename: str) -> bool:
    return (
        filename.startswith(str(ROOT))
        and "/.venv/" not in filename
        and "/benchmarks/" not in filename
    )


def snapshot_sources() -> None:
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None) or ""
        if ours(name) and name not in SOURCES:
            with contextlib.suppress(OSError):
                SOURCES[name] = Path(name).read_text(encoding="utf-8").splitlines()


def our_frames(exc: BaseException) -> list[str]:
    out = []
    for frame in traceback.extract_tb(exc.__traceback__, limit=None):
        if not ours(frame.filename):
            continue
        lines = SOURCES.get(frame.filename)
        line = lines[frame.lineno - 1].strip() if lines and frame.lineno else frame.line
        out.append(f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno} {frame.name}: {line}")
    return out


async def peek_state(storage: Storage, key: ConversationKey) -> str:
    class Peek(Exception):
        pass

    shown = ""
    try:
        async with storage.turn(key, None) as t:
            s = t.state
            shown = (
                f"flow={s.flow} step={s.step} done={s.done} parked={list(s.parked)} "
                f"slots={sorted(s.slots)} back={[b.get('step') for b in s.back]}"
            )
            raise Peek
    except Peek:
        pass
    except Exception as exc:  # the state itself may be what breaks
        shown = f"(state unreadable: {type(exc).__name__}: {exc})"
    return shown


def plan(rng: random.Random) -> tuple[dt.date, list[Any]]:
    """A conversation's date and its steps: fixed Actions, or callables that pick from the
    buttons offered so far (they run at their turn)."""
    if rng.random() < 0.45:
        script = rng.choice(scripts())
        today = dt.date.fromisoformat(str(script.get("today", "2023-07-10")))
        steps: list[Any] = []
        rate = rng.choice([0.03, 0.1, 0.25])  # low: deep into the flow, then hostile
        for turn in script["turns"]:
            if turn.get("restart") or turn.get("user_id"):
                continue
            if rng.random() < rate:
                steps.append(None)  # a random message before this turn
            if rng.random() < rate * 0.7:
                steps.append(None)  # instead of this turn
                continue
            if "button" in turn:
                steps.append(Action("button", str(turn["button"])))
            elif "upload" in turn:
                name, data = scripted_upload(yaml.safe_dump(turn["upload"], allow_unicode=True))
                steps.append(Action("file", name, data))
            else:
                steps.append(Action("text", str(turn["say"])))
        steps += [None] * rng.randrange(0, 8)
        return today, steps
    opener = rng.choice(
        [
            "我要参保",
            "/quote",
            "算保费",
            "8个人A0B0C0多少钱",
            "什么时候开始保",
            "账号密码忘了",
            "批次状态",
            "/start",
            "继续参保",
            "帮助",
            None,
        ]
    )
    steps = [Action("text", opener) if opener else None]
    steps += [None] * rng.randrange(4, 40)
    return rng.choice(TODAYS), steps


def next_random(rng: random.Random, offered: list[str], seen: list[str], last: str) -> Action:
    roll = rng.random()
    wants_file = "Excel" in last or "名单" in last or "上传" in last
    if offered and roll < 0.4:
        return Action("button", rng.choice(offered))
    if roll < 0.47 and offered:  # the number of an offered button, typed
        return Action("text", str(rng.randrange(1, len(offered) + 2)))
    if roll < 0.55:
        return Action("button", forged_button(rng, seen))
    if (wants_file and roll < 0.7) or roll < 0.6:
        if wants_file and rng.random() < 0.5:
            return Action("file", *hostile_files()[rng.randrange(3)][:2])
        return random_file(rng)
    return Action("text", random_text(rng))


async def run_conversation(
    engines: Callable[[dt.date], Engine],
    storage: Storage,
    seed: int,
    index: int,
    budget: int,
    totals: Totals,
    verbose: bool = False,
) -> int:
    """Play conversation ``index``; returns the number of messages sent."""
    rng = random.Random(f"{seed}:{index}")
    today, steps = plan(rng)
    bot = engines(today)
    key = ConversationKey("fuzz", f"chat{index}", f"user{index}")
    offered: list[str] = []
    seen: list[str] = []
    echoable: list[str] = []
    history: list[str] = []
    last_text = ""
    sent_ids: list[str] = []
    if verbose:
        print(f"conversation {index}, today {today}")
    for number, step in enumerate(steps[:budget], start=1):
        action = step if step is not None else next_random(rng, offered, seen, last_text)
        if rng.random() < 0.02:  # the user comes back a day, weeks or months later
            today += dt.timedelta(days=rng.choice([1, 20, 200]))
            bot = engines(today)
            history.append(f"(now {today})")
            if verbose:
                print(f"  --- today is now {today}")
        duplicate = False
        if rng.random() < 0.05:
            if sent_ids and rng.random() < 0.5:
                action = Action(
                    action.kind, action.value, action.data, action.echo, rng.choice(sent_ids)
                )
                duplicate = True
            else:
                sent_ids.append(f"m{index}-{number}")
                action = Action(action.kind, action.value, action.data, action.echo, sent_ids[-1])
        echoable += [action.value, action.echo]
        progress: list[str] = []

        async def report(text: str, progress: list[str] = progress) -> None:
            progress.append(text)

        started = time.perf_counter()
        try:
            replies = await bot.handle(action.incoming(key), report)
        except Exception as exc:
            state = await peek_state(storage, key)
            frames = our_frames(exc)
            root = f"{type(exc).__name__} at {frames[-1].split(': ')[0] if frames else '?'}"
            totals.failures.append(
                Failure(
                    "exception",
                    index,
                    number,
                    action,
                    f"{type(exc).__name__}: {str(exc)[:300]}",
                    state,
                    frames,
                    history[-5:],
                    root,
                )
            )
            if verbose:
                print(f"  {number:>3} {action.describe()}\n      !! {root}: {str(exc)[:300]}")
            history.append(action.describe(60))
            offered = []
            continue
        elapsed = time.perf_counter() - started
        flags, notes = check_replies(replies, progress, echoable, duplicate)
        if flags or elapsed > SLOW_TURN_S:
            state = await peek_state(storage, key)
            for name, detail in flags:
                totals.failures.append(
                    Failure(
                        name, index, number, action, detail, state, history=history[-5:], root=name
                    )
                )
            if elapsed > SLOW_TURN_S:
                totals.notes.append(
                    Failure(
                        "slow turn",
                        index,
                        number,
                        action,
                        f"{elapsed:.1f} s",
                        state,
                        root="slow turn",
                    )
                )
        for name, detail in notes:
            totals.notes.append(Failure(name, index, number, action, detail, root=name))
        if verbose:
            print(f"  {number:>3} {action.describe()}  [{elapsed * 1e3:.0f} ms]")
            for reply in replies:
                print("      > " + reply.text[:300].replace("\n", "\n        "))
                if reply.choices:
                    print(
                        "        buttons: "
                        + ", ".join(f"{c.label}={c.value}" for c in reply.choices)[:300]
                    )
            for name, detail in flags:
                print(f"      !! {name}: {detail}")
        if totals.track_states:
            totals.states[(await peek_state(storage, key)).split(" parked=")[0]] += 1
        history.append(action.describe(60))
        if replies:
            offered = [c.value for r in replies for c in r.choices]
            seen += offered
            last_text = "\n".join(r.text for r in replies)
    return min(len(steps), budget)


async def fuzz(
    storage: Storage, messages: int, seed: int, replay: int | None = None, states: bool = False
) -> Totals:
    settings_of = {}
    faq = FaqService(load_kb())
    built: dict[dt.date, Engine] = {}

    def engines(today: dt.date) -> Engine:
        if today not in built:
            settings_of[today] = Settings(
                Path("/nonexistent"), None, today, "fuzz-secret-key-0123456789"
            )
            built[today] = build_engine(settings_of[today], storage, faq)
            snapshot_sources()
        return built[today]

    totals = Totals(track_states=states)
    index = 0
    while totals.messages < messages if replay is None else index <= replay:
        quiet = Totals()
        sink = totals if replay is None or index == replay else quiet
        budget = messages - totals.messages if replay is None else 10**9
        totals.messages += await run_conversation(
            engines, storage, seed, index, budget, sink, verbose=index == replay
        )
        index += 1
    return totals


async def open_named(storage: str, folder: Path) -> Storage:
    if storage == "memory":
        return MemoryStorage()
    if storage == "sqlite":
        return await open_storage(None, folder)
    return await open_storage(storage)


def _call_site(frames: list[str]) -> str:
    """The first frame past the engine's dispatch: which flow code got there."""
    inner = [f for f in frames if not f.startswith("flows/engine/")]
    return inner[0].split(": ")[0] if inner else ""


def summarize(totals: Totals, seed: int, storage: str, show: int) -> str:
    """The failures and notes grouped by cause, a few examples and a replay line each."""
    lines: list[str] = []
    for title, items in [
        ("exceptions", totals.exceptions),
        ("flagged replies", totals.flagged),
        ("notes", totals.notes),
    ]:
        if not items:
            continue
        groups: dict[str, list[Failure]] = {}
        for f in items:
            groups.setdefault(f.root, []).append(f)
        lines.append(f"\n{title} by cause:")
        for root, members in sorted(groups.items(), key=lambda kv: -len(kv[1]))[: show * 5]:
            first = members[0]
            lines.append(f"  {len(members):>5} x {root}")
            lines += [
                f"        conv {f.conversation} turn {f.turn}: {f.action.describe(100)}"
                + (f"  ({f.detail})" if f.kind == "slow turn" else "")
                for f in members[:show]
            ]
            lines.append(f"        detail: {first.detail}")
            sites = Counter(site for f in members if (site := _call_site(f.frames)))
            if len(sites) > 1:
                lines.append(
                    "        called from: "
                    + "; ".join(f"{site} ({n}x)" for site, n in sites.most_common())
                )
            if first.state:
                lines.append(f"        state before: {first.state}")
            lines += [f"          {frame}" for frame in first.frames[-4:]]
            if first.history:
                lines.append(f"        earlier: {' | '.join(first.history[-3:])}")
            lines.append(
                f"        replay: .venv/bin/python benchmarks/fuzz_engine.py --seed {seed}"
                f" --storage {storage} --replay {first.conversation}"
            )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--storage", default="memory", help="memory, sqlite or a database URL")
    parser.add_argument("--replay", type=int, help="print one conversation's turns")
    parser.add_argument("--states", action="store_true", help="count the flow steps reached")
    parser.add_argument("--show", type=int, default=3, help="examples per cause")
    args = parser.parse_args()
    phrases(), hostile_files(), scripts()  # built before the clock starts
    with tempfile.TemporaryDirectory() as folder:
        storage = await open_named(args.storage, Path(folder))
        try:
            started = time.perf_counter()
            totals = await fuzz(storage, args.messages, args.seed, args.replay, args.states)
            elapsed = time.perf_counter() - started
        finally:
            await storage.close()
    if args.replay is not None:
        print(f"\n{len(totals.exceptions)} exceptions, {len(totals.flagged)} flagged")
        return
    print(
        f"seed {args.seed}, storage {args.storage}: {totals.messages} messages in "
        f"{elapsed:.1f} s ({totals.messages / elapsed:.0f} messages/s)"
    )
    print(
        f"exceptions: {len(totals.exceptions)}   flagged replies: {len(totals.flagged)}   "
        f"notes: {len(totals.notes)}"
    )
    if args.states:
        print("\nstates after a turn:")
        for state, count in totals.states.most_common():
            print(f"  {count:>6}  {state}")
    print(summarize(totals, args.seed, args.storage, args.show))


if __name__ == "__main__":
    asyncio.run(main())
