"""Builders for roster tests: valid ID numbers, roster rows, and roster workbooks and CSV
files written into a test's tmp_path (no binary fixtures in the repository)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from rules.roster import RosterField, RosterRow

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

TEMPLATE_HEADER = [
    "序号",
    "姓名*",
    "证件类型*",
    "证件号码*",
    "性别",
    "出生日期",
    "手机号码",
    "是否有社保*",
]


def check_char(first17: str) -> str:
    """GB 11643-1999's check character, written out independently of rules.ids."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_number(
    birth: dt.date = dt.date(1990, 1, 1), *, male: bool = True, seq: int = 1, region="310101"
) -> str:
    """A valid 18-character number; the sequence's last digit is odd for men."""
    sequence = seq % 100 * 10 + (1 if male else 2)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def people(n: int) -> list[str]:
    """``n`` distinct valid resident ID numbers of people born from 1975 on (under age)."""
    first = dt.date(1975, 1, 1)
    return [
        id_number(first + dt.timedelta(days=i % 9000), male=bool(i % 2), seq=i // 9000)
        for i in range(n)
    ]


def row_values(
    number: str | int | float,
    *,
    seq: int | None = 1,
    name: str = "张三",
    doc_type: str = "居民身份证",
    sex: Any = "",
    birth: Any = "",
    phone: Any = "",
    si: Any = "是",
) -> list[Any]:
    """One roster line in the template's column order."""
    return [seq, name, doc_type, number, sex, birth, phone, si]


def roster_row(row: int = 2, *, numeric: Iterable[RosterField] = (), **cells: str) -> RosterRow:
    """A RosterRow for the rules, with template defaults a valid 职保 employee would have.

    Keyword names are the field names: name, doc_type, id_number, sex, birth_date, phone,
    social_insurance."""
    values = {
        RosterField.NAME: "张三",
        RosterField.DOC_TYPE: "居民身份证",
        RosterField.ID_NUMBER: id_number(),
        RosterField.SOCIAL_INSURANCE: "是",
    }
    for key, value in cells.items():
        values[RosterField[key.upper()]] = value
    return RosterRow(row, values, frozenset(numeric))


def workbook(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[str] = TEMPLATE_HEADER,
    title_rows: Sequence[str] = (),
    sheet: str = "参保名单",
    other_sheets: Sequence[str] = (),
) -> Path:
    """A roster workbook as a handler makes it: optional title rows, the header, the rows.

    Every cell is written explicitly so the ID column keeps whatever type the test gives
    (text stays text; an int or float is a number cell, as Excel makes when it eats an ID).
    """
    wb = openpyxl.Workbook()
    for name in other_sheets:
        wb.create_sheet(name).cell(1, 1, "说明")
    ws = wb.active
    ws.title = sheet
    r = 1
    for title in title_rows:
        ws.cell(r, 1, title)
        r += 1
    for c, value in enumerate(header, start=1):
        ws.cell(r, c, value)
    for values in rows:
        r += 1
        for c, value in enumerate(values, start=1):
            if value is not None and value != "":
                ws.cell(r, c, value)
    if other_sheets:
        wb.move_sheet(ws, offset=len(other_sheets))
    wb.save(path)
    return path


def csv_file(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[str] = TEMPLATE_HEADER,
    encoding: str = "utf-8-sig",
    delimiter: str = ",",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def reorder(rows: Sequence[Sequence[Any]], order: Sequence[int]) -> list[list[Any]]:
    """Rows with their columns taken in ``order`` (indexes into the template's columns)."""
    return [[row[i] for i in order] for row in rows]
