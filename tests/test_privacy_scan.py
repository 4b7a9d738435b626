"""A whole enrollment on SQLite whose roster and messages hold ID and mobile numbers written
every which way; then everything hubao kept is scanned for them: the database file, the
transcript, the misses, the log, and every file it sent, except the two meant to carry
them (the clean roster to import and the unit's own roster annotated)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import stat
import sys
import threading
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import setup_logging
from bot.terminal import render
from flows.engine import Engine
from flows.messages import Incoming, OutgoingFile, Reply
from flows.storage import ConversationKey, Storage
from flows.storage_factory import DB_FILE_NAME, open_storage
from rules.ids import upgrade_15

from helpers import button, engine, joined, key, text, upload
from roster_builders import id_number, row_values, workbook

TODAY = dt.date(2023, 7, 10)
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")

SPACED = id_number(dt.date(1987, 2, 16), seq=1)
DASHED = id_number(dt.date(1990, 6, 24), seq=2)
FULL_WIDTH = id_number(dt.date(1980, 5, 5), seq=3)
LOWER_X = "31010119830303041X"
PLAIN = id_number(dt.date(1975, 3, 1), seq=5)
LABELLED = id_number(dt.date(1992, 2, 2), seq=6)
OLD_15 = "310101800505033"
IN_CHAT_ID = "320102199006247703"
IDS = [SPACED, DASHED, FULL_WIDTH, LOWER_X, PLAIN, LABELLED, OLD_15, upgrade_15(OLD_15)]
IDS.append(IN_CHAT_ID)
MOBILES = [
    "15773708775",
    "13133897510",
    "15296994522",
    "15296994523",
    "15296994524",
    "13812345678",
    "13912345678",
]

ROSTER = [
    row_values(f"{SPACED[:6]} {SPACED[6:14]} {SPACED[14:]}", seq=1, name="甲",
               phone="157-7370-8775"),
    row_values(f"{DASHED[:6]}-{DASHED[6:10]}-{DASHED[10:14]}-{DASHED[14:]}", seq=2, name="乙",
               phone="131 3389 7510"),
    row_values(FULL_WIDTH.translate(WIDE), seq=3, name="丙", phone="+8615296994522"),
    row_values(LOWER_X.lower(), seq=4, name="丁", phone="+86 152 9699 4523"),
    row_values(PLAIN, seq=5, name="戊", phone="0086-152-9699-4524"),
    row_values("ID" + LABELLED, seq=6, name="己", phone="13812345678".translate(WIDE)),
    row_values(OLD_15, seq=7, name="庚", phone="13912345678"),
]  # fmt: skip

SAID_BEFORE_ROSTER = [
    "我要参保",
    "没有",
    "今天",
    "有",
    "有",
    "填过了",
    "上海测试有限公司 157-7370-8775",
    f"上海测试有限公司ID{IN_CHAT_ID}",
    "上海测试有限公司",
]
SAID_AT_ROSTER = [
    "公司年会节目怎么排？我电话157-7370-8775",
    f"身份证 {SPACED[:6]} {SPACED[6:14]} {SPACED[14:]} 的同事想问宠物能不能保？",
    f"ID{IN_CHAT_ID}，old {OLD_15}，小写{LOWER_X.lower()}，这些人年会坐哪桌？",
    "删除所有有问题的行",
]
SAID_AFTER = [
    "我的手机是+86 152 9699 4522，公司团建去哪好？",
    "0086-152-9699-4524 公司团建的大巴谁出钱",
    "电话" + "13812345678".translate(WIDE) + "，宠物能保吗？",
    "我手机131 3389 7510，食堂菜单能帮我排一下吗",
]

CLEAN = "参保名单（可导入）"
"""In the name of the file whose job is to carry full numbers (the clean roster); the
annotated roster (name ends _检查结果) carries them too."""

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d._\uff0e\uff3f+]+")


def squeezed(text: str) -> str:
    """Full-width read as ASCII, separators dropped, x upper: every way of writing a
    number comes down to its digits."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def leaks(where: str, text: str) -> list[str]:
    plain = squeezed(text)
    return [f"{where}: {number}" for number in IDS + MOBILES if number in plain]


def xlsx_text(data: bytes) -> str:
    """Every XML part of a workbook, uncompressed (cells live in sharedStrings/sheets)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(
            archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
        )


def meant_to_carry(name: str) -> bool:
    return CLEAN in name or Path(name).stem.endswith("_检查结果")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """hubao's logging set up as the commands do, at DEBUG, with the SQL and its
    parameters logged too; restored afterwards."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), [list(h.filters) for h in root.handlers])
    sql = logging.getLogger("sqlalchemy.engine")
    sql_level = sql.level
    hooks = (sys.excepthook, threading.excepthook)
    stream = io.StringIO()
    setup_logging(logging.DEBUG, stream)
    sql.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        sql.setLevel(sql_level)
        for handler in list(root.handlers):
            root.removeHandler(handler)
        level, handlers, filters = saved
        for handler, kept in zip(handlers, filters, strict=True):
            handler.filters[:] = kept
            root.addHandler(handler)
        root.setLevel(level)
        sys.excepthook, threading.excepthook = hooks


class Run:
    """One handler's enrollment: every reply kept, every file saved as `hubao chat` does."""

    def __init__(self, bot: Engine, who: ConversationKey, out_dir: Path) -> None:
        self.bot, self.who, self.out_dir = bot, who, out_dir
        self.replies: list[Reply] = []

    async def send(self, message: Incoming) -> str:
        replies = await self.bot.handle(message)
        self.replies.extend(replies)
        render(replies, self.out_dir)
        return joined(replies)

    async def say(self, words: str) -> str:
        return await self.send(text(self.who, words))


async def enroll(storage: Storage, out_dir: Path, tmp_path: Path) -> Run:
    run = Run(engine(storage, TODAY), key("handler"), out_dir)
    for words in SAID_BEFORE_ROSTER[:-3]:
        await run.say(words)
    assert "不要写手机号或证件号" in await run.say(SAID_BEFORE_ROSTER[-3])
    assert "不要写手机号或证件号" in await run.say(SAID_BEFORE_ROSTER[-2])
    assert "名单" in await run.say(SAID_BEFORE_ROSTER[-1])
    roster = workbook(tmp_path / "名单.xlsx", ROSTER)
    checked = await run.send(upload(run.who, "名单.xlsx", roster.read_bytes()))
    assert "共7行" in checked and "有错误3行" in checked
    for words in SAID_AT_ROSTER:
        await run.say(words)
    assert "上一保障年度" in await run.send(button(run.who, "v:done"))
    await run.say("3")
    await run.say("5")
    for words in SAID_AFTER:
        await run.say(words)
    done = await run.say("A0 B0 C0")
    assert "合计" in done or any("参保汇总" in f.name for r in run.replies for f in r.files)
    return run


async def test_no_full_id_or_mobile_number_is_kept_anywhere_but_the_roster_files(
    tmp_path: Path, log_stream: io.StringIO
) -> None:
    data_dir, out_dir = tmp_path / "data", tmp_path / "data" / "files"
    storage = await open_storage(None, data_dir)
    try:
        run = await enroll(storage, out_dir, tmp_path)
        who = run.who
        transcript = await storage.transcript(who)
        misses = await storage.misses()
        live_files = {
            p.name: p.read_bytes() for p in data_dir.iterdir() if p.name.startswith(DB_FILE_NAME)
        }
        try:
            raise ValueError(f"row 3: bad id {DASHED}", "+86 152 9699 4522")
        except ValueError:
            logging.getLogger("hubao.test").exception("checking %s failed", f"ID{LABELLED}")
    finally:
        await storage.close()

    found: list[str] = []
    assert transcript and len(misses) >= 4
    found += leaks("transcript", "\n".join(line.text for line in transcript))
    found += leaks("misses", "\n".join(m.question for m in misses))
    log = log_stream.getvalue()
    assert "INSERT INTO transcript" in log and "bad id" in log and "Traceback" in log
    found += leaks("log", log)
    for name, data in live_files.items():  # the database with its WAL, in use
        found += leaks(name, data.decode("utf-8", "ignore"))
    for path in data_dir.iterdir():  # and once closed
        if path.is_file():
            found += leaks(path.name, path.read_bytes().decode("utf-8", "ignore"))

    sent = {f.name: f.data for r in run.replies for f in r.files}
    assert any("参保汇总" in n for n in sent) and any(CLEAN in n for n in sent)
    assert any(name.endswith("_检查结果.xlsx") for name in sent)
    saved = {p.name: p.read_bytes() for p in out_dir.iterdir()}
    assert saved.keys() == sent.keys()
    for name, data in saved.items():
        if meant_to_carry(name):
            continue
        found += leaks(name, xlsx_text(data) if name.endswith(".xlsx") else data.decode())
    # The clean roster does carry the numbers, or the scan would prove nothing.
    clean = next(n for n in saved if CLEAN in n)
    assert PLAIN in squeezed(xlsx_text(saved[clean]))
    assert found == []

    # The unit name with a number was not kept: the draft has the plain name.
    assert "上海测试有限公司" in "\n".join(line.text for line in transcript)

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in data_dir.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


async def test_files_hubao_saves_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    out_dir = tmp_path / "files"
    old = os.umask(0o022)
    try:
        render([Reply("文件", files=(OutgoingFile("参保汇总.xlsx", b"data"),))], out_dir)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((out_dir / "参保汇总.xlsx").stat().st_mode) == 0o600
