"""What a roster file holds once read, whatever it was stored as: the reading limits, the
result types (``RosterFile``, or ``FileFinding`` for a file the checks cannot use), the
recognition of the header row, and the turning of a sheet's rows into ``RosterRow`` values.
The xlsx and CSV readers (``sheets.xlsx_roster``, ``sheets.csv_roster``) produce numbered
rows of cell values; everything after that is here, shared by both. Every message a
reader gives is a catalog entry ``sheets.file.*`` (``rules/data/texts/sheets.yaml``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter

from rules.catalog import say
from rules.policy import PolicyYear
from rules.roster import TEMPLATE_FIELDS, RosterField, RosterRow
from rules.text import INVISIBLE, drop_invisible

CellValue = Any
"""A value as read: str, int, float, bool, datetime (a date-formatted number), or None."""

Progress = Callable[[int, int | None], None]
"""Called with (data rows read, rows expected or None when the file does not say)."""

# Caps against files that would exhaust memory or time: a real roster of 5000 people is
# well under 1 MB zipped and a few MB unzipped. Every file under them is read in a few
# seconds and well under 300 MB (tests/test_hostile_files.py measures it).
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
# Only the first MAX_COLUMNS columns are read: the template's eight and room for the unit's
# own (department, notes...). Cells further right are skipped as they are parsed.
MAX_COLUMNS = 64
# Excel's own sheet size; a CSV file with more lines is not a roster.
MAX_ROWS = 1_048_576
# Bounds on what a workbook may make the reader do, several times what a full roster
# needs: XML tags parsed, all parts together, a self-closing one counting twice (each costs
# a call of a Python handler, about a microsecond; a 5000-row roster has about 200,000,
# and formatted empty cells are dropped before parsing), cells kept, and the shared
# strings kept in memory.
MAX_XML_TAGS = 1_000_000
MAX_CELLS = 500_000
MAX_SHARED_STRINGS = 300_000
MAX_SHARED_CHARS = 20_000_000
# The style table is read only to know which cells hold dates; past this many tags of it
# (Excel itself stops at 64000 formats) the rest counts as "not a date".
MAX_STYLE_TAGS = 300_000
MAX_LINE_CHARS = 1_000_000
# Titles and notes above the header are common; the header is looked for in these rows.
HEADER_SCAN_ROWS = 10
PROGRESS_EVERY = 500

# Header texts handlers use for each template column, alternatives separated by "|",
# compared after normalization (full-width to half-width, spaces, "*" and bracketed notes
# such as "（必填）" removed).
_HEADER_NAMES: dict[RosterField, str] = {
    RosterField.SEQ: "序号|编号|no|no.|行号",
    RosterField.NAME: "姓名|员工姓名|职工姓名|人员姓名|参保人姓名|名字",
    RosterField.DOC_TYPE: "证件类型|证件种类|证件类别|证照类型",
    RosterField.ID_NUMBER: (
        "证件号码|证件号|证件编号|身份证号|身份证号码|身份证|身份证件号码|公民身份号码"
    ),
    RosterField.SEX: "性别",
    RosterField.BIRTH_DATE: "出生日期|出生年月日|出生年月|生日",
    RosterField.PHONE: "手机号码|手机号|手机|联系电话|电话|联系方式|电话号码",
    RosterField.SOCIAL_INSURANCE: (
        "是否有社保|有无社保|是否有社会保险|有无社会保险|是否缴纳社保|是否参加社保|社保|社保情况"
    ),
}
_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_HEADER_NOISE = re.compile(r"[\s*:：]+")


def _header_key(value: CellValue) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", text)).lower()


_FIELD_OF_HEADER: dict[str, RosterField] = {
    _header_key(name): field for field, names in _HEADER_NAMES.items() for name in names.split("|")
}


def quoted(names: Sequence[str], most: int = 5) -> str:
    """Names in quotes, listed with 、, the first ``most`` of them and then how many."""
    return say("sheets.quoted", names=list(names), most=most)


def size_text(n: int) -> str:
    """A file size as a message shows it: 20MB, 512KB."""
    return f"{n / 1024 / 1024:.0f}MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)}KB"


@dataclass(frozen=True)
class FileFinding:
    """Why a file cannot be checked at all."""

    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class RosterFile:
    """A roster as read: its data rows, where they were, and every cell for the report.

    Text is as the file has it but for invisible control characters, which are removed
    when read (each removal is a ``control_chars`` finding of its row)."""

    filename: str
    sheet: str
    header_row: int
    columns: Mapping[RosterField, int]
    """0-based column index of each template field the file has."""
    headers: Mapping[RosterField, str]
    """Each field's header text as the file writes it."""
    rows: tuple[RosterRow, ...]
    cells: tuple[tuple[CellValue, ...], ...]
    """Every sheet row from row 1 to the last data row, values as read (the first
    ``MAX_COLUMNS`` columns)."""
    ignored_sheets: tuple[str, ...] = ()
    """Other sheets of the workbook with a roster header that were not read: hidden ones,
    and visible ones with no one under the header."""
    notes: tuple[str, ...] = ()
    """Short sentences about what was read and what was left out, to show with
    the results (which sheet, sheets not checked, columns not read)."""


def file_finding(code: str, text: str, **values: Any) -> FileFinding:
    """A ``FileFinding`` with the catalog's sentence ``sheets.file.<text>``."""
    return FileFinding(code, say(f"sheets.file.{text}", **values))


class Refused(Exception):
    """A file the reader stops reading: the code and sentence of its FileFinding."""

    def __init__(self, code: str, text: str, **facts: Any) -> None:
        super().__init__(code)
        self.code = code
        self.text = text
        self.facts = facts

    def finding(self, name: str) -> FileFinding:
        return file_finding(self.code, self.text, name=name, **self.facts)


def too_many_cells() -> Refused:
    return Refused("too_large", "too_many_cells", cap=MAX_CELLS // 10_000)


def too_many_strings() -> Refused:
    return Refused(
        "too_large",
        "too_many_strings",
        cap=MAX_SHARED_STRINGS // 10_000,
        chars=MAX_SHARED_CHARS // 10_000,
    )


def too_complex() -> Refused:
    return Refused("too_large", "too_complex")


def wide_note(sheet: str) -> str:
    """The note that columns right of ``MAX_COLUMNS`` were not read."""
    return say(
        "sheets.file.note_wide",
        sheet=sheet,
        column=get_column_letter(MAX_COLUMNS),
        count=MAX_COLUMNS,
    )


@dataclass(frozen=True)
class Header:
    """The header row found: its number, and each field's column and text."""

    row: int
    columns: dict[RosterField, int]
    headers: dict[RosterField, str]

    @property
    def missing(self) -> list[RosterField]:
        return [f for f in TEMPLATE_FIELDS if f.required and f not in self.columns]


def find_header(rows: Sequence[Sequence[CellValue]]) -> Header | None:
    """The row naming the most template columns (at least two), the first such row."""
    best: Header | None = None
    for number, values in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        columns: dict[RosterField, int] = {}
        headers: dict[RosterField, str] = {}
        for index, value in enumerate(values):
            found = _FIELD_OF_HEADER.get(_header_key(value))
            if found is not None and found not in columns:  # a repeated column: the first
                columns[found] = index
                headers[found] = str(value).strip()
        if len(columns) >= 2 and (best is None or len(columns) > len(best.columns)):
            best = Header(number, columns, headers)
    return best


def cell_text(value: CellValue) -> tuple[str, bool]:
    """A cell as text, and whether the spreadsheet stored it as a number."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("是" if value else "否"), False
    if isinstance(value, int):
        return str(value), True
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value)), True
        return repr(value), True
    if isinstance(value, dt.datetime):
        return value.date().isoformat(), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    return str(value), False


def cleaned(values: Sequence[CellValue]) -> tuple[tuple[CellValue, ...], frozenset[int]]:
    """A row with invisible characters removed from its text, and the columns that had
    some."""
    dirty = [i for i, v in enumerate(values) if type(v) is str and INVISIBLE.search(v)]
    if not dirty:
        return tuple(values), frozenset()
    line = list(values)
    for i in dirty:
        line[i] = drop_invisible(line[i])
    return tuple(line), frozenset(dirty)


def any_text(values: Sequence[CellValue], columns: Sequence[int]) -> bool:
    """Whether any of these columns has a value that is not blank text (a fast
    ``not RosterRow.is_blank`` for rows that are not people)."""
    width = len(values)
    for i in columns:
        if i < width:
            value = values[i]
            if value is not None and (type(value) is not str or value.strip()):
                return True
    return False


def roster_row(
    number: int, values: Sequence[CellValue], header: Header, dirty: frozenset[int]
) -> RosterRow:
    cells: dict[RosterField, str] = {}
    numeric: set[RosterField] = set()
    for name, index in header.columns.items():
        text, is_number = cell_text(values[index] if index < len(values) else None)
        cells[name] = text
        if is_number:
            numeric.add(name)
    dirty_fields = (
        frozenset(f for f, i in header.columns.items() if i in dirty) if dirty else frozenset()
    )
    return RosterRow(number, cells, frozenset(numeric), dirty_fields)


def missing_columns(sheet: str, header: Header) -> FileFinding:
    """The finding for a header without every required column."""
    columns = [f.value for f in header.missing]
    return file_finding(
        "bad_template",
        "missing_columns",
        sheet=sheet,
        row=header.row,
        columns=quoted(columns, most=len(columns)),
    )


def collect(
    name: str,
    sheet: str,
    header: Header,
    values: Iterable[tuple[int, Sequence[CellValue]]],
    policy: PolicyYear,
    progress: Progress | None,
    total: int | None,
) -> RosterFile | FileFinding:
    """The roster from the rows that have a value, numbered (ascending; rows not given are
    blank). Blank rows cost nothing, so people after any run of them are read."""
    limit = policy.roster.max_rows_per_file
    rows: list[RosterRow] = []
    cells: list[tuple[CellValue, ...]] = []
    last = header.row
    person = tuple(i for f, i in header.columns.items() if f is not RosterField.SEQ)
    kept = 0
    for number, raw in values:
        line, dirty = cleaned(raw)
        if number > len(cells) + 1:
            cells.extend([()] * (number - 1 - len(cells)))
        cells.append(line)
        kept += len(line)
        if kept > MAX_CELLS:
            return too_many_cells().finding(name)
        if number <= header.row or not any_text(line, person):
            continue  # a title, or a row with only a 序号 or the unit's own columns
        row = roster_row(number, line, header, dirty)
        if row.is_blank:
            continue
        rows.append(row)
        last = number
        if len(rows) > limit:
            return file_finding("too_many_rows", "too_many_rows", limit=limit)
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress(len(rows), total)
    if not rows:
        return file_finding("empty_roster", "empty_roster", sheet=sheet, row=header.row)
    if progress is not None:
        progress(len(rows), len(rows))
    return RosterFile(
        filename=name,
        sheet=sheet,
        header_row=header.row,
        columns=dict(header.columns),
        headers=dict(header.headers),
        rows=tuple(rows),
        cells=tuple(cells[:last]),
    )
