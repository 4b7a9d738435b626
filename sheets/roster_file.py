"""Roster workbooks: reading what handlers upload, and writing the import template, the
annotated report and the clean file. All the file I/O of roster checking lives here; the
checks themselves are pure functions in ``rules.roster``.

Reading never raises on a bad file: a file the checks cannot use comes back as a
``FileFinding`` (code and Chinese message). Workbooks are read straight from the zip with
expat, streaming, keeping only what a roster can hold: the first ``MAX_COLUMNS`` columns
of the one visible sheet with the roster header, no styles but which cells are dates, and
within fixed bounds on the XML parsed, the cells kept and the shared strings, so any file
under the upload cap is answered in seconds and a bounded amount of memory. A 5000-row
roster is read about three times faster than openpyxl's read-only mode read it.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import io
import itertools
import math
import os
import posixpath
import re
import stat
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.worksheet.datavalidation import DataValidation

from rules.fmt import cn_date
from rules.ids import DocType, Sex
from rules.people import CATEGORY_LABELS, Category
from rules.policy import PolicyYear
from rules.roster import (
    TEMPLATE_FIELDS,
    Person,
    RosterCheck,
    RosterField,
    RosterRow,
    RowFinding,
    Severity,
    UnitCheck,
)
from rules.text import INVISIBLE, drop_invisible
from sheets.xlsx_out import put

CellValue = Any
"""A value as read: str, int, float, bool, datetime (a date-formatted number), or None."""

Target = Path | str | IO[bytes]
"""Where a workbook is written: a path, or a binary buffer for a file sent in chat."""

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

ROSTER_SHEET = "参保名单"
INSTRUCTIONS_SHEET = "填写说明"
SUMMARY_SHEET = "检查结果"
FINDINGS_SHEET = "问题清单"
NOTE_HEADER = "问题说明"

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".et"}

_TEXT = {
    "no_file": "找不到文件“{name}”。请检查路径后再试。",
    "not_a_file": "“{name}”不是一个文件（是文件夹或设备）。请选择保存好的名单 Excel 文件。",
    "empty_file": "文件“{name}”是空的（0字节）。请确认保存的是填好的名单。",
    "ole2": (
        "文件“{name}”是旧版 .xls 格式，或者设置了打开密码，无法读取。"
        "请在 Excel 中取消密码，并“另存为”Excel 工作簿（.xlsx）后再检查。"
    ),
    "xlsb": (
        "文件“{name}”是 Excel 二进制工作簿（.xlsb），无法读取。"
        "请在 Excel 中“另存为”Excel 工作簿（.xlsx）后再检查。"
    ),
    "not_excel": (
        "文件“{name}”的内容不是 Excel 表格（可能是网页、文本或其他格式改了扩展名）。"
        "请用 Excel 打开后“另存为”Excel 工作簿（.xlsx）再检查。"
    ),
    "corrupt": (
        "文件“{name}”打不开：不是有效的 Excel 表格，或者文件已损坏。"
        "请用 Excel 打开确认内容，再“另存为”Excel 工作簿（.xlsx）后重试。"
    ),
    "too_large": (
        "文件“{name}”太大（{size}），超过了{cap}的上限，不像一份参保名单。"
        "请只保留名单所在的工作表，删掉图片等内容后再检查。"
    ),
    "too_large_unzipped": (
        "文件“{name}”解压后的内容太大（超过{cap}），不像一份参保名单。"
        "请只保留名单所在的工作表，另存为新文件后再检查。"
    ),
    "too_many_cells": (
        "文件“{name}”里的格子太多（超过{cap}万个），不像一份参保名单。"
        "请只保留名单所在的工作表，删掉名单下方和右侧多余的行列（包括只设了格式的空格子），"
        "另存为新文件后再检查。"
    ),
    "too_complex": (
        "文件“{name}”的内容太多太杂，不像一份参保名单。"
        "请只保留名单所在的工作表，复制到新建的工作簿里，另存为 .xlsx 后再检查。"
    ),
    "too_many_strings": (
        "文件“{name}”里的文字太多（超过{cap}万条或{chars}万字），不像一份参保名单。"
        "请只保留名单所在的工作表，另存为新文件后再检查。"
    ),
    "too_many_lines": (
        "文件“{name}”超过{cap}行，不像一份参保名单。"
        "请删掉名单下方多余的空行，另存为 Excel 工作簿（.xlsx）后再检查。"
    ),
    "line_too_long": (
        "文件“{name}”里有一行超过{cap}万个字，不像一份参保名单。"
        "请用 Excel 打开确认内容，再“另存为”Excel 工作簿（.xlsx）后重试。"
    ),
    "no_header": (
        "在文件前{rows}行里找不到名单的表头（姓名、证件类型、证件号码、是否有社保）。"
        "请用平台的导入模板填写，不要改动表头。"
    ),
    "missing_columns": (
        "工作表“{sheet}”第{row}行是表头，但缺少必填列：{columns}。"
        "请按平台的导入模板补上这些列（表头文字保持不变）。"
    ),
    "hidden_sheet": (
        "名单在隐藏的工作表{sheets}里，隐藏的工作表不会被检查。"
        "请在 Excel 中取消隐藏（右键点工作表标签→取消隐藏），"
        "或者把名单复制到一个显示着的工作表里，再检查。"
    ),
    "several_sheets": (
        "文件“{name}”里有{count}个工作表都填了人员：{sheets}。一次只能检查一个工作表："
        "请把所有人员放到同一个工作表里，或者每个工作表另存为一个文件分别检查；"
        "不需要检查的工作表请删除或隐藏。"
    ),
    "too_many_rows": (
        "这个文件超过{limit}人，平台一个文件最多导入{limit}人。"
        "请把名单拆成几个文件（每个不超过{limit}人），逐个检查、逐个上传。"
    ),
    "empty_roster": (
        "工作表“{sheet}”第{row}行是表头，但下面没有任何人员。请在表头下方逐行填写参保人员。"
    ),
    "note_empty_sheets": "工作表{sheets}只有表头、没有人员，没有检查。",
    "note_hidden_sheets": (
        "隐藏的工作表{sheets}没有检查；其中的人员如需参保，请取消隐藏后另行检查。"
    ),
    "note_wide": "工作表“{sheet}”第{column}列以后的内容没有读取（名单只读前{count}列）。",
}

# Header texts handlers use for each template column, compared after normalization
# (full-width to half-width, spaces, "*" and bracketed notes such as "（必填）" removed).
_HEADER_SYNONYMS: dict[RosterField, tuple[str, ...]] = {
    RosterField.SEQ: ("序号", "编号", "no", "no.", "行号"),
    RosterField.NAME: ("姓名", "员工姓名", "职工姓名", "人员姓名", "参保人姓名", "名字"),
    RosterField.DOC_TYPE: ("证件类型", "证件种类", "证件类别", "证照类型"),
    RosterField.ID_NUMBER: (
        "证件号码",
        "证件号",
        "证件编号",
        "身份证号",
        "身份证号码",
        "身份证",
        "身份证件号码",
        "公民身份号码",
    ),
    RosterField.SEX: ("性别",),
    RosterField.BIRTH_DATE: ("出生日期", "出生年月日", "出生年月", "生日"),
    RosterField.PHONE: ("手机号码", "手机号", "手机", "联系电话", "电话", "联系方式", "电话号码"),
    RosterField.SOCIAL_INSURANCE: (
        "是否有社保",
        "有无社保",
        "是否有社会保险",
        "有无社会保险",
        "是否缴纳社保",
        "是否参加社保",
        "社保",
        "社保情况",
    ),
}
_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_HEADER_NOISE = re.compile(r"[\s*:：]+")
# Excel writes characters XML cannot carry as _xHHHH_ (and a literal "_x" as _x005F_x).
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _header_key(value: CellValue) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", text)).lower()


_FIELD_OF_HEADER: dict[str, RosterField] = {
    _header_key(name): field for field, names in _HEADER_SYNONYMS.items() for name in names
}


def _quoted(names: Sequence[str], most: int = 5) -> str:
    shown = "、".join(f"“{n}”" for n in names[:most])
    return shown + (f"等{len(names)}个" if len(names) > most else "")


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
    """Short Chinese sentences about what was read and what was left out, to show with
    the results (which sheet, sheets not checked, columns not read)."""


@dataclass(frozen=True)
class _Header:
    row: int
    columns: dict[RosterField, int]
    headers: dict[RosterField, str]

    @property
    def missing(self) -> list[RosterField]:
        return [f for f in TEMPLATE_FIELDS if f.required and f not in self.columns]


def _find_header(rows: Sequence[Sequence[CellValue]]) -> _Header | None:
    """The row naming the most template columns (at least two), the first such row."""
    best: _Header | None = None
    for number, values in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        columns: dict[RosterField, int] = {}
        headers: dict[RosterField, str] = {}
        for index, value in enumerate(values):
            found = _FIELD_OF_HEADER.get(_header_key(value))
            if found is not None and found not in columns:  # a repeated column: the first
                columns[found] = index
                headers[found] = str(value).strip()
        if len(columns) >= 2 and (best is None or len(columns) > len(best.columns)):
            best = _Header(number, columns, headers)
    return best


def _cell_text(value: CellValue) -> tuple[str, bool]:
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


def _cleaned(values: Sequence[CellValue]) -> tuple[tuple[CellValue, ...], frozenset[int]]:
    """A row with invisible characters removed from its text, and the columns that had
    some."""
    dirty = [i for i, v in enumerate(values) if type(v) is str and INVISIBLE.search(v)]
    if not dirty:
        return tuple(values), frozenset()
    line = list(values)
    for i in dirty:
        line[i] = drop_invisible(line[i])
    return tuple(line), frozenset(dirty)


def _any_text(values: Sequence[CellValue], columns: Sequence[int]) -> bool:
    """Whether any of these columns has a value that is not blank text (a fast
    ``not RosterRow.is_blank`` for rows that are not people)."""
    width = len(values)
    for i in columns:
        if i < width:
            value = values[i]
            if value is not None and (type(value) is not str or value.strip()):
                return True
    return False


def _roster_row(
    number: int, values: Sequence[CellValue], header: _Header, dirty: frozenset[int]
) -> RosterRow:
    cells: dict[RosterField, str] = {}
    numeric: set[RosterField] = set()
    for name, index in header.columns.items():
        text, is_number = _cell_text(values[index] if index < len(values) else None)
        cells[name] = text
        if is_number:
            numeric.add(name)
    cleaned = (
        frozenset(f for f, i in header.columns.items() if i in dirty) if dirty else frozenset()
    )
    return RosterRow(number, cells, frozenset(numeric), cleaned)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f}MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)}KB"


def read_roster(
    path: Path | str,
    *,
    policy: PolicyYear,
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> RosterFile | FileFinding:
    """Read a roster file (.xlsx or .csv) from disk. Never raises on a bad file."""
    path = Path(path)
    name = drop_invisible(path.name)
    try:
        # Devices and FIFOs are no files (/dev/zero never ends); a size on disk is not
        # trusted either: at most one byte past the cap is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return FileFinding("unreadable_file", _TEXT["not_a_file"].format(name=name))
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = max(len(data), path.stat().st_size)
            return FileFinding(
                "too_large",
                _TEXT["too_large"].format(name=name, size=_size(size), cap=_size(max_bytes)),
            )
    except FileNotFoundError:
        return FileFinding("unreadable_file", _TEXT["no_file"].format(name=name))
    except OSError:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    return read_roster_bytes(
        data,
        path.name,
        policy=policy,
        progress=progress,
        max_bytes=max_bytes,
        max_uncompressed=max_uncompressed,
    )


def read_roster_bytes(
    data: bytes,
    filename: str,
    *,
    policy: PolicyYear,
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> RosterFile | FileFinding:
    """Read a roster from the bytes of an upload. Never raises on a bad file."""
    name = drop_invisible(Path(filename).name).strip() or "名单"
    if len(data) > max_bytes:
        return FileFinding(
            "too_large",
            _TEXT["too_large"].format(name=name, size=_size(len(data)), cap=_size(max_bytes)),
        )
    if not data:
        return FileFinding("unreadable_file", _TEXT["empty_file"].format(name=name))
    if data.startswith(_OLE2):
        return FileFinding("unreadable_file", _TEXT["ole2"].format(name=name))
    if data.startswith(b"PK"):
        return _read_xlsx(data, name, policy, progress, max_uncompressed)
    if Path(name).suffix.lower() in _EXCEL_SUFFIXES:
        return FileFinding("unreadable_file", _TEXT["not_excel"].format(name=name))
    return _read_csv(data, name, policy, progress)


class _Refused(Exception):
    """A workbook the reader stops reading: the code and text of its FileFinding."""

    def __init__(self, code: str, text: str, **facts: object) -> None:
        super().__init__(code)
        self.code = code
        self.text = text
        self.facts = facts

    def finding(self, name: str) -> FileFinding:
        return FileFinding(self.code, _TEXT[self.text].format(name=name, **self.facts))


def _too_many_cells() -> _Refused:
    return _Refused("too_large", "too_many_cells", cap=MAX_CELLS // 10_000)


def _too_many_strings() -> _Refused:
    return _Refused(
        "too_large",
        "too_many_strings",
        cap=MAX_SHARED_STRINGS // 10_000,
        chars=MAX_SHARED_CHARS // 10_000,
    )


def _too_complex() -> _Refused:
    return _Refused("too_large", "too_complex")


def _read_xlsx(
    data: bytes,
    name: str,
    policy: PolicyYear,
    progress: Progress | None,
    max_uncompressed: int,
) -> RosterFile | FileFinding:
    corrupt = FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    # The sizes in the zip directory bound what decompression may produce (zipfile stops
    # at the declared size and fails the CRC beyond it), so checking them before opening
    # is enough to refuse a zip bomb.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:
        # zipfile raises BadZipFile, NotImplementedError, ValueError, OSError... on damage.
        return corrupt
    with archive:
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > max_uncompressed:
            return FileFinding(
                "too_large",
                _TEXT["too_large_unzipped"].format(name=name, cap=_size(max_uncompressed)),
            )
        try:
            return _read_workbook(_Workbook(archive), name, policy, progress)
        except _Refused as refused:
            return refused.finding(name)
        except Exception:
            # A damaged or hostile file can fail anywhere inside zipfile or the XML parser,
            # with exception types neither documents; for the user each one means the
            # same thing: this file cannot be read.
            return corrupt


def _read_workbook(
    book: _Workbook, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    """The visible sheet with a roster header and people under it. Hidden sheets are
    never read as the roster; several sheets with people are refused, not guessed at."""
    found: list[tuple[_Sheet, _Header | None, int | None]] = []
    for sheet in book.sheets:
        if sheet.visible:
            header, declared = book.header(sheet)
            found.append((sheet, header, declared))
    complete = [(s, h, d) for s, h, d in found if h is not None and not h.missing]
    hidden = [
        s.name
        for s in book.sheets
        if not s.visible and (h := book.header(s)[0]) is not None and not h.missing
    ]
    if not complete:
        if hidden:
            return FileFinding(
                "hidden_sheet", _TEXT["hidden_sheet"].format(sheets=_quoted(hidden))
            )
        partial = [(s, h) for s, h, _ in found if h is not None]
        if partial:
            sheet, header = max(partial, key=lambda p: len(p[1].columns))
            return _missing_columns(sheet.name, header)
        return FileFinding("bad_template", _TEXT["no_header"].format(rows=HEADER_SCAN_ROWS))
    filled = complete
    if len(complete) > 1:
        filled = [(s, h, d) for s, h, d in complete if book.has_people(s, h)]
    if len(filled) > 1:
        sheets = [s.name for s, _, _ in filled]
        return FileFinding(
            "several_sheets",
            _TEXT["several_sheets"].format(name=name, count=len(sheets), sheets=_quoted(sheets)),
        )
    chosen, header, declared = filled[0] if filled else complete[0]
    empty = [s.name for s, _, _ in complete if s is not chosen]
    # The dimension record says how many rows to expect, unless it is implausible.
    total = declared - header.row if declared and declared > header.row else None
    if total is not None and total > policy.roster.max_rows_per_file:
        total = None
    state = _SheetState()
    result = _collect(name, chosen.name, header, book.rows(chosen, state), policy, progress, total)
    if isinstance(result, FileFinding):
        if result.code == "empty_roster" and hidden:  # the people are on a hidden sheet
            return FileFinding(
                "hidden_sheet", _TEXT["hidden_sheet"].format(sheets=_quoted(hidden))
            )
        return result
    notes: list[str] = []
    if empty:
        notes.append(_TEXT["note_empty_sheets"].format(sheets=_quoted(empty)))
    if hidden:
        notes.append(_TEXT["note_hidden_sheets"].format(sheets=_quoted(hidden)))
    if state.beyond:
        notes.append(
            _TEXT["note_wide"].format(
                sheet=chosen.name, column=get_column_letter(MAX_COLUMNS), count=MAX_COLUMNS
            )
        )
    return dataclasses.replace(result, ignored_sheets=tuple(empty + hidden), notes=tuple(notes))


def _missing_columns(sheet: str, header: _Header) -> FileFinding:
    columns = "、".join(f"“{f.value}”" for f in header.missing)
    return FileFinding(
        "bad_template",
        _TEXT["missing_columns"].format(sheet=sheet, row=header.row, columns=columns),
    )


def _collect(
    name: str,
    sheet: str,
    header: _Header,
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
        line, dirty = _cleaned(raw)
        if number > len(cells) + 1:
            cells.extend([()] * (number - 1 - len(cells)))
        cells.append(line)
        kept += len(line)
        if kept > MAX_CELLS:
            return _too_many_cells().finding(name)
        if number <= header.row or not _any_text(line, person):
            continue  # a title, or a row with only a 序号 or the unit's own columns
        row = _roster_row(number, line, header, dirty)
        if row.is_blank:
            continue
        rows.append(row)
        last = number
        if len(rows) > limit:
            return FileFinding("too_many_rows", _TEXT["too_many_rows"].format(limit=limit))
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress(len(rows), total)
    if not rows:
        return FileFinding(
            "empty_roster", _TEXT["empty_roster"].format(sheet=sheet, row=header.row)
        )
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


# --- xlsx: the package read with expat, within bounds ------------------------------------

_CHUNK = 64 * 1024
_MAX_TEXT = 32_767
"""Excel's limit on the text of a cell: anything longer is cut there."""
_MAX_FORMAT = 255
_DIGITS = "0123456789"
_COLUMN_OF = {get_column_letter(i + 1): i for i in range(MAX_COLUMNS)}
# Number formats Excel builds in that show dates or times, the Chinese ones included
# (27-36 and 50-58 in a Chinese Excel); openpyxl's table knows only the first group.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
_LAST_ROW = re.compile(r"(\d+)$")
# Cells and rows with a format but no value, as Excel writes them for a formatted range:
# removed from the sheet's XML before parsing, at the regular expression engine's speed,
# so a sheet formatted far below its data costs almost nothing. One goes only when the
# next has its own reference (otherwise its place would count for that one).
_EMPTY_CELL = rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,5}")?/>'
_EMPTY_CELLS = re.compile(
    rb'<row r="[0-9]{1,7}"[^<>]{0,200}(?:/>|>(?:' + _EMPTY_CELL + rb")*</row>)"
    rb'(?=<row r="|</sheetData>)'
    rb"|" + _EMPTY_CELL + rb'(?=<c r="|</row>)'
)


class _Tags(dict[str, str]):
    """The elements a handler wants, by the name expat gives without namespace processing
    (``c``, or ``x:c`` with a prefix): each maps to its local name, any other to ""."""

    def __init__(self, *wanted: str) -> None:
        super().__init__((name, name) for name in wanted)
        self.wanted = frozenset(wanted)

    def __missing__(self, name: str) -> str:
        local = name.rpartition(":")[2]
        found = local if local in self.wanted else ""
        if len(self) < 1000:  # names are few in a real part; a hostile one gets no cache
            self[name] = found
        return found


def _no_doctype(*_: object) -> None:
    # No part of a workbook has a DTD; refusing one refuses every entity expansion trick.
    raise ValueError("DOCTYPE in a workbook part")


def _parser() -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    return parser


def _unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


@dataclass(frozen=True)
class _Sheet:
    name: str
    part: str
    visible: bool


@dataclass
class _SheetState:
    declared: int | None = None
    """The last row the sheet's dimension record names, when it has one."""
    beyond: bool = False
    """A cell right of MAX_COLUMNS has a value."""


class _Workbook:
    """An .xlsx package: its sheets, shared strings and date styles, read on demand with
    expat from zip streams. Every part's XML counts against one budget of tags."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.members = {
            i.filename.replace("\\", "/").lstrip("/").lower(): i for i in archive.infolist()
        }
        self.tags_left = MAX_XML_TAGS
        rels = self._rels("")
        book = next((p for t, p in rels.values() if t == "officeDocument"), "xl/workbook.xml")
        if book.lower().endswith(".bin"):
            raise _Refused("unreadable_file", "xlsb")
        if book.lower() not in self.members:
            raise _Refused("unreadable_file", "not_excel")
        parts = self._rels(book)
        self.sheets, self.epoch = self._sheets(book, parts)
        self.shared: list[str] = []
        self.date_styles: frozenset[str] = frozenset()
        self.timedelta_styles: frozenset[str] = frozenset()
        for kind, part in parts.values():
            if kind == "sharedStrings" and part.lower() in self.members:
                self.shared = self._shared_strings(part)
            elif kind == "styles" and part.lower() in self.members:
                self.date_styles, self.timedelta_styles = self._styles(part)

    # -- streaming ------------------------------------------------------------------------

    def _feed(
        self,
        part: str,
        parser: Any,
        done: Callable[[], bool],
        cap: int | None = None,
        refusal: Callable[[], _Refused] = _too_complex,
        sheet: bool = False,
    ) -> Iterator[None]:
        """Feed ``part`` to ``parser`` a chunk at a time, yielding after each, until the
        part ends or ``done()``; at most ``cap`` tags of it when given (then it stops).
        Past the workbook's budget of tags, ``refusal()`` is raised. A ``sheet`` loses
        its empty formatted cells and rows first."""
        info = self.members.get(part.lower())
        if info is None:
            raise ValueError(f"missing part {part}")
        spent = 0
        with self.archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                xml = _EMPTY_CELLS.sub(b"", chunk) if sheet else chunk
                tags = xml.count(b"<") + xml.count(b"/>")
                spent += tags
                self.tags_left -= tags
                if self.tags_left < 0:
                    raise refusal()
                parser.Parse(xml, not chunk)
                yield
                if not chunk or done() or (cap is not None and spent > cap):
                    return

    def _parse(
        self,
        part: str,
        parser: Any,
        done: Callable[[], bool] = bool,
        cap: int | None = None,
        refusal: Callable[[], _Refused] = _too_complex,
    ) -> None:
        for _ in self._feed(part, parser, done, cap, refusal):
            pass

    # -- the package ------------------------------------------------------------------------

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type's last word, target part) of ``part`` ("" the package)."""
        folder, _, file = part.rpartition("/")
        rels = f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"
        if rels.lower() not in self.members:
            return {}
        found: dict[str, tuple[str, str]] = {}
        tags = _Tags("Relationship")

        def start(name: str, attrs: dict[str, str]) -> None:
            if tags[name] != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "").replace("\\", "/")
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rpartition("/")[2], target)

        parser = _parser()
        parser.StartElementHandler = start
        self._parse(rels, parser)
        return found

    def _sheets(
        self, book: str, parts: Mapping[str, tuple[str, str]]
    ) -> tuple[list[_Sheet], dt.datetime]:
        sheets: list[_Sheet] = []
        epoch = WINDOWS_EPOCH
        tags = _Tags("sheet", "sheets", "workbookPr")
        ended = False

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal epoch
            tag = tags[name]
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
                kind, part = parts.get(rid, ("", ""))
                if kind == "worksheet" and part.lower() in self.members:
                    # Excel's names have at most 31 characters; a longer one is cut there.
                    title = drop_invisible(attrs.get("name", "")).strip()[:31]
                    title = title or f"工作表{len(sheets) + 1}"
                    visible = attrs.get("state", "visible") == "visible"
                    sheets.append(_Sheet(title, part, visible))
            elif tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
                epoch = MAC_EPOCH

        def end(name: str) -> None:
            nonlocal ended
            ended = ended or tags[name] == "sheets"

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        self._parse(book, parser, lambda: ended)
        return sheets, epoch

    def _shared_strings(self, part: str) -> list[str]:
        strings: list[str] = []
        text: list[str] = []
        chars = size = 0
        capture = phonetic = False
        tags = _Tags("si", "t", "rPh")

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal capture, phonetic
            tag = tags[name]
            if tag == "t":
                capture = not phonetic
            elif tag == "rPh":
                phonetic = True

        def end(name: str) -> None:
            nonlocal capture, phonetic, chars, size
            tag = tags[name]
            if tag == "t":
                capture = False
            elif tag == "si":
                value = _unescape("".join(text)[:_MAX_TEXT]) if text else ""
                text.clear()
                size = 0
                strings.append(value)
                chars += len(value)
                if len(strings) > MAX_SHARED_STRINGS or chars > MAX_SHARED_CHARS:
                    raise _too_many_strings()
            elif tag == "rPh":
                phonetic = False

        def data(chunk: str) -> None:
            nonlocal size
            if capture and size < _MAX_TEXT:
                text.append(chunk)
                size += len(chunk)

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        self._parse(part, parser, refusal=_too_many_strings)
        return strings

    def _styles(self, part: str) -> tuple[frozenset[str], frozenset[str]]:
        """The style indexes (as cells write them) whose number format is a date or time,
        and those that are a duration."""
        custom: dict[str, str] = {}
        formats: list[str] = []
        in_xfs = ended = False
        tags = _Tags("numFmt", "cellXfs", "xf")

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal in_xfs
            tag = tags[name]
            if tag == "xf" and in_xfs:
                formats.append(attrs.get("numFmtId", "0"))
            elif tag == "numFmt":
                code = attrs.get("formatCode", "")
                if len(code) <= _MAX_FORMAT:  # Excel's limit; a longer one is no date
                    custom[attrs.get("numFmtId", "")] = code
            elif tag == "cellXfs":
                in_xfs = True

        def end(name: str) -> None:
            nonlocal ended
            ended = ended or tags[name] == "cellXfs"

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        self._parse(part, parser, lambda: ended, cap=MAX_STYLE_TAGS)
        kinds: dict[str, tuple[bool, bool]] = {}
        for number in set(formats):
            code = custom.get(number)
            builtin = int(number) if number.isdigit() else -1
            if code is None:
                code = BUILTIN_FORMATS.get(builtin)
            date = builtin in _DATE_FORMAT_IDS and number not in custom
            kinds[number] = (date or is_date_format(code), is_timedelta_format(code))
        dates = frozenset(str(i) for i, n in enumerate(formats) if kinds[n][0])
        durations = frozenset(str(i) for i, n in enumerate(formats) if kinds[n][1])
        return dates, durations

    # -- sheets -----------------------------------------------------------------------------

    def header(self, sheet: _Sheet) -> tuple[_Header | None, int | None]:
        """The roster header in the sheet's first rows, and the sheet's declared last row."""
        state = _SheetState()
        top: list[tuple[CellValue, ...]] = [()] * HEADER_SCAN_ROWS
        rows = self.rows(sheet, state, until=HEADER_SCAN_ROWS)
        for number, values in rows:
            if number > HEADER_SCAN_ROWS:
                break
            top[number - 1] = _cleaned(values)[0]
        rows.close()
        return _find_header(top), state.declared

    def has_people(self, sheet: _Sheet, header: _Header) -> bool:
        """Whether anyone is under the header: read up to the first such row only."""
        rows = self.rows(sheet, _SheetState())
        try:
            person = [i for f, i in header.columns.items() if f is not RosterField.SEQ]
            return any(
                number > header.row and _any_text(_cleaned(values)[0], person)
                for number, values in rows
            )
        finally:
            rows.close()

    def rows(
        self, sheet: _Sheet, state: _SheetState, until: int = MAX_ROWS
    ) -> Generator[tuple[int, tuple[CellValue, ...]], None, None]:
        """(row number, values) of each row with a value in its first MAX_COLUMNS columns,
        in sheet order, reading no further than about row ``until``. Rows must ascend; one
        that does not is taken as the next row."""
        shared, epoch = self.shared, self.epoch
        dates, durations = self.date_styles, self.timedelta_styles
        tags = _Tags("c", "v", "t", "row", "is", "rPh", "dimension", "sheetData")
        out: list[tuple[int, tuple[CellValue, ...]]] = []
        values: list[CellValue] = []
        text: list[str] = []
        number = 0
        column = -1
        kind = "n"
        style: str | None = None
        keep = has_value = capture = inline = phonetic = ended = False
        kept = size = 0

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal column, kind, style, keep, has_value, capture, inline, phonetic, number, size
            tag = tags[name]
            if tag == "c":
                ref = attrs.get("r")
                if ref is None:
                    column += 1
                else:
                    column = _COLUMN_OF.get(ref.rstrip(_DIGITS), MAX_COLUMNS)
                keep = column < MAX_COLUMNS
                kind = attrs.get("t", "n")
                style = attrs.get("s")
                has_value = False
                text.clear()
                size = 0
            elif tag == "v":
                if kind != "inlineStr":
                    has_value = True
                    capture = keep
            elif tag == "t":
                capture = keep and inline and not phonetic and kind == "inlineStr"
            elif tag == "row":
                ref = attrs.get("r")
                given = int(ref) if ref is not None else 0
                number = given if given > number else number + 1
                if number > MAX_ROWS:
                    raise ValueError("row number past the sheet's end")
                column = -1
                values.clear()
            elif tag == "is":
                inline = True
                has_value = kind == "inlineStr"
            elif tag == "rPh":
                phonetic = True
            elif tag == "dimension":
                found = _LAST_ROW.search(attrs.get("ref", ""))
                state.declared = int(found[1]) if found else None

        def end(name: str) -> None:
            nonlocal capture, inline, phonetic, ended, kept
            tag = tags[name]
            if tag == "v" or tag == "t":
                capture = False
            elif tag == "c":
                if not has_value:
                    return
                if not keep:
                    state.beyond = True
                    return
                raw = "".join(text)[:_MAX_TEXT]
                value = _value(raw, kind, style, shared, dates, durations, epoch)
                if value is None or value == "":
                    return
                if column >= len(values):
                    values.extend([None] * (column - len(values)))
                    values.append(value)
                else:
                    values[column] = value
                kept += 1
                if kept > MAX_CELLS:
                    raise _too_many_cells()
            elif tag == "row":
                if values:
                    out.append((number, tuple(values)))
                    values.clear()
            elif tag == "is":
                inline = False
            elif tag == "rPh":
                phonetic = False
            elif tag == "sheetData":
                ended = True

        def data(chunk: str) -> None:
            nonlocal size
            if capture and size < _MAX_TEXT:
                text.append(chunk)
                size += len(chunk)

        parser = _parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        for _ in self._feed(
            sheet.part,
            parser,
            lambda: ended or number > until,
            refusal=_too_many_cells,
            sheet=True,
        ):
            yield from out
            out.clear()


def _value(
    raw: str,
    kind: str,
    style: str | None,
    shared: list[str],
    dates: frozenset[str],
    durations: frozenset[str],
    epoch: dt.datetime,
) -> CellValue:
    """A cell's value from its type (``t``), style (``s``) and text, as openpyxl gives it
    with ``data_only``: the cached result of a formula, a date for a date-formatted number."""
    if kind == "inlineStr":
        return _unescape(raw)
    if not raw:
        return None  # a formula never calculated, or an empty value
    if kind == "n":
        number: int | float = float(raw) if "." in raw or "E" in raw or "e" in raw else int(raw)
        if style is not None and style in dates:
            try:
                return from_excel(number, epoch, timedelta=style in durations)
            except (OverflowError, ValueError):
                return number
        return number
    if kind == "s":
        index = int(raw)
        if index < 0:
            raise ValueError("no such shared string")
        return shared[index]
    if kind == "str":
        return _unescape(raw)
    if kind == "b":
        return raw in ("1", "true")
    if kind == "d":
        try:
            return from_ISO8601(raw)
        except ValueError:
            return raw
    return raw  # "e": an error such as #N/A, shown as Excel shows it


# --- csv -------------------------------------------------------------------------------------

_DELIMITERS = (",", "\t", ";")
_LONG_LINE = re.compile(rf"^[^\r\n]{{{MAX_LINE_CHARS}}}", re.MULTILINE)


def _decode(data: bytes) -> str | None:
    # Excel on Chinese Windows saves CSV in GBK, and "Unicode text" in UTF-16; everything
    # else is UTF-8, often with a BOM.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _read_csv(
    data: bytes, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    text = _decode(data)
    if text is None or "\x00" in text:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > MAX_ROWS:
        return FileFinding("too_large", _TEXT["too_many_lines"].format(name=name, cap=MAX_ROWS))
    if _LONG_LINE.search(text):
        return FileFinding(
            "too_large", _TEXT["line_too_long"].format(name=name, cap=MAX_LINE_CHARS // 10_000)
        )
    # The delimiter is the one under which the header names the most template columns.
    best: tuple[_Header, str] | None = None
    for delimiter in _DELIMITERS:
        try:
            top = [
                _cleaned(row[:MAX_COLUMNS])[0]
                for row in itertools.islice(_csv_rows(text, delimiter), HEADER_SCAN_ROWS)
            ]
        except csv.Error:
            continue
        found = _find_header(top)
        if found is not None and (best is None or len(found.columns) > len(best[0].columns)):
            best = (found, delimiter)
    if best is None:
        return FileFinding("bad_template", _TEXT["no_header"].format(rows=HEADER_SCAN_ROWS))
    header, delimiter = best
    sheet = drop_invisible(Path(name).stem).strip() or ROSTER_SHEET
    if header.missing:
        return _missing_columns(sheet, header)
    wide = False

    def rows() -> Iterator[tuple[int, list[str]]]:
        nonlocal wide
        for number, row in enumerate(_csv_rows(text, delimiter), start=1):
            if not any(row):
                continue
            if len(row) > MAX_COLUMNS:
                wide = wide or any(row[MAX_COLUMNS:])
                row = row[:MAX_COLUMNS]
            yield number, row

    try:
        result = _collect(name, sheet, header, rows(), policy, progress, lines - header.row)
    except csv.Error:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    if wide and isinstance(result, RosterFile):
        note = _TEXT["note_wide"].format(
            sheet=sheet, column=get_column_letter(MAX_COLUMNS), count=MAX_COLUMNS
        )
        return dataclasses.replace(result, notes=(note,))
    return result


# --- writing ------------------------------------------------------------------------

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor="FFC7CE"),
    Severity.WARNING: PatternFill("solid", fgColor="FFEB9C"),
}
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_WIDTHS = {
    RosterField.SEQ: 6,
    RosterField.NAME: 12,
    RosterField.DOC_TYPE: 22,
    RosterField.ID_NUMBER: 22,
    RosterField.SEX: 8,
    RosterField.BIRTH_DATE: 13,
    RosterField.PHONE: 15,
    RosterField.SOCIAL_INSURANCE: 12,
}
TEXT_FORMAT = "@"
# Characters Excel refuses in a sheet title (a CSV file's name becomes the title).
_SHEET_TITLE_BANNED = re.compile(r"[\\/?*\[\]:]")


def _template_workbook(policy: PolicyYear, rows: int) -> tuple[Any, Any]:
    """A workbook laid out as the platform's import template, with ``rows`` data rows
    prepared (ID and phone columns as text, drop-down lists)."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = ROSTER_SHEET
    for index, name in enumerate(TEMPLATE_FIELDS, start=1):
        cell = put(ws, 1, index, name.template_header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS[name]
    ws.freeze_panes = "A2"
    last = max(rows, 1) + 1  # an empty clean file still gets one prepared row
    for name in (RosterField.ID_NUMBER, RosterField.PHONE, RosterField.BIRTH_DATE):
        # Text format keeps Excel from turning an ID number into 3.10101E+17 (digits lost).
        column = TEMPLATE_FIELDS.index(name) + 1
        ws.column_dimensions[get_column_letter(column)].number_format = TEXT_FORMAT
        for r in range(2, last + 1):
            ws.cell(r, column).number_format = TEXT_FORMAT
    choices = {
        RosterField.DOC_TYPE: [d.value for d in DocType],
        RosterField.SEX: [s.value for s in Sex],
        RosterField.SOCIAL_INSURANCE: ["是", "否"],
    }
    for name, options in choices.items():
        letter = get_column_letter(TEMPLATE_FIELDS.index(name) + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从下拉列表选择",
            error=f"{name.value}只能选：{'、'.join(options)}",
        )
        validation.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(validation)
    return workbook, ws


def _instructions(policy: PolicyYear) -> list[str]:
    required = "、".join(f.value for f in TEMPLATE_FIELDS if f.required)
    limits = policy.age_limits
    return [
        "参保名单填写说明",
        f"1. 带 * 的列必须填写：{required}。",
        "2. 证件类型请从下拉列表选择。",
        "3. 证件号码列已设为“文本”格式，请直接输入；从别处复制时请用“选择性粘贴→数值”。"
        "号码变成 3.10101E+17 这样就说明后几位已经丢失，只能重新输入。",
        "4. 证件类型不是居民身份证的（护照、港澳台居民居住证、通行证等），"
        "性别和出生日期必须填写，出生日期写成 1990-01-01。",
        "5. 是否有社保：本单位在职、正常缴纳社保的填“是”，否则填“否”。",
        f"6. 没有社保且女性满{limits.female}周岁、男性满{limits.male}周岁"
        "（按起保日计算）的不能参保；有社保但超过这个年龄的，需确认社保尚在缴金才能保留。",
        f"7. 一个文件最多{policy.roster.max_rows_per_file}人，超过请分成多个文件逐个上传。",
        "8. 请保持模板格式不变：不要增删、移动列，不要修改表头，否则平台会上传失败。",
        "9. 同一个证件号码只能出现一次。",
    ]


def write_template(path: Target, *, policy: PolicyYear) -> None:
    """The import template: sheet 参保名单 ready to fill, and sheet 填写说明."""
    workbook, _ = _template_workbook(policy, policy.roster.max_rows_per_file)
    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    guide.column_dimensions["A"].width = 110
    for index, line in enumerate(_instructions(policy), start=1):
        cell = put(guide, index, 1, line)
        cell.alignment = _WRAP
        if index == 1:
            cell.font = Font(bold=True, size=14)
    workbook.save(path)


def write_clean(path: Target, check: RosterCheck, *, policy: PolicyYear) -> int:
    """The rows without errors, normalized, in the template's layout. Rows with only
    warnings stay (an over-age employee is kept by confirming on the platform).
    Returns the number of people written."""
    return write_people(path, check.people, policy=policy)


def write_people(target: Target, people: Sequence[Person], *, policy: PolicyYear) -> int:
    """``people`` in the template's layout, numbered from 1: a file the platform imports."""
    workbook, ws = _template_workbook(policy, len(people))
    for index, person in enumerate(people, start=1):
        for column, value in enumerate(_clean_values(index, person), start=1):
            put(ws, index + 1, column, value)
    workbook.save(target)
    return len(people)


def _clean_values(index: int, person: Person) -> list[str | int]:
    values: dict[RosterField, str | int] = {
        RosterField.SEQ: index,
        RosterField.NAME: person.name,
        RosterField.DOC_TYPE: person.doc_type.value,
        RosterField.ID_NUMBER: person.number,
        RosterField.SEX: person.sex.value,
        RosterField.BIRTH_DATE: person.birth_date.isoformat(),
        RosterField.PHONE: person.phone,
        RosterField.SOCIAL_INSURANCE: "是" if person.has_social_insurance else "否",
    }
    return [values[f] for f in TEMPLATE_FIELDS]


def _note(finding: RowFinding) -> str:
    text = f"【{finding.column}】{finding.message}"
    if finding.suggestion:
        # The full corrected value is shown only here, in the unit's own workbook.
        text += f"（应为 {finding.suggestion}）"
    return text


def write_report(
    path: Target,
    roster: RosterFile,
    check: RosterCheck,
    unit: UnitCheck | None = None,
    *,
    as_of: dt.date | None = None,
) -> None:
    """The roster as uploaded with each bad cell highlighted and a 问题说明 column, a
    summary sheet and a list of every finding."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = _SHEET_TITLE_BANNED.sub("", roster.sheet)[:31].strip("'") or ROSTER_SHEET
    width = max((len(r) for r in roster.cells), default=0)
    width = max(width, *(i + 1 for i in roster.columns.values()))
    note_column = width + 1
    id_column = roster.columns.get(RosterField.ID_NUMBER)
    for r, values in enumerate(roster.cells, start=1):
        for c, value in enumerate(values, start=1):
            if value is not None:
                put(ws, r, c, value)
    if id_column is not None:
        # Only the rows holding people: a person far down a sheet must not make every
        # blank row above them a cell.
        for person in roster.rows:
            cell = ws.cell(person.row, id_column + 1)
            if isinstance(cell.value, str):
                cell.number_format = TEXT_FORMAT
        ws.column_dimensions[get_column_letter(id_column + 1)].width = 22
    for c in range(1, width + 1):
        ws.cell(roster.header_row, c).font = _BOLD
    note = put(ws, roster.header_row, note_column, NOTE_HEADER)
    note.font = _BOLD
    note.fill = _FILLS[Severity.ERROR]
    ws.column_dimensions[get_column_letter(note_column)].width = 80
    ws.freeze_panes = ws.cell(roster.header_row + 1, 1).coordinate

    by_row: dict[int, list[RowFinding]] = defaultdict(list)
    for finding in check.findings:
        by_row[finding.row].append(finding)
    for row, findings in by_row.items():
        worst = (
            Severity.ERROR
            if any(f.severity is Severity.ERROR for f in findings)
            else Severity.WARNING
        )
        for finding in findings:
            column = roster.columns.get(finding.field)
            if column is not None:
                cell = ws.cell(row, column + 1)
                # An error colour is never overwritten by a warning on the same cell.
                if cell.fill != _FILLS[Severity.ERROR]:
                    cell.fill = _FILLS[finding.severity]
        cell = put(ws, row, note_column, "\n".join(_note(f) for f in findings))
        cell.fill = _FILLS[worst]
        cell.alignment = _WRAP

    summary = workbook.create_sheet(SUMMARY_SHEET)
    summary.column_dimensions["A"].width = 100
    lines = summary_lines(roster, check, unit, as_of=as_of)
    lines += ["", "颜色说明：红色为必须改正的错误，黄色为需要确认的提醒。"]
    for index, line in enumerate(lines, start=1):
        cell = put(summary, index, 1, line)
        cell.alignment = _WRAP
    summary.cell(1, 1).font = Font(bold=True, size=14)

    listing = workbook.create_sheet(FINDINGS_SHEET)
    for c, title in enumerate(("行号", "列", "代码", "级别", "问题说明"), start=1):
        put(listing, 1, c, title).font = _BOLD
    for r, finding in enumerate(check.findings, start=2):
        level = "错误" if finding.severity is Severity.ERROR else "提醒"
        for c, value in enumerate(
            (finding.row, finding.column, str(finding.code), level, _note(finding)), start=1
        ):
            put(listing, r, c, value)
        listing.cell(r, 4).fill = _FILLS[finding.severity]
    for letter, w in zip("ABCDE", (8, 14, 22, 8, 90), strict=True):
        listing.column_dimensions[letter].width = w
    listing.freeze_panes = "A2"
    workbook.save(path)


def summary_lines(
    roster: RosterFile,
    check: RosterCheck,
    unit: UnitCheck | None = None,
    *,
    as_of: dt.date | None = None,
) -> list[str]:
    """The short account of a check shown at the top of the CLI output and the report."""
    error_rows = check.rows_with_errors
    warning_rows = len({f.row for f in check.warnings} - {f.row for f in check.errors})
    lines = [
        f"参保名单检查：{roster.filename}（工作表“{roster.sheet}”，表头在第{roster.header_row}行）",
        *roster.notes,  # the sheets and columns that were not read, said, never silent
        f"共{check.rows}行：可以导入{len(check.people)}人，有错误{error_rows}行，"
        f"需要确认{warning_rows}行。",
    ]
    if as_of is not None:
        lines.append(f"年龄按起保日{cn_date(as_of)}计算。")
    # Over the people who can be imported, so the figures add up to them.
    shown = check.people_categories
    people = "，".join(f"{CATEGORY_LABELS[c]}{shown.get(c, 0)}人" for c in Category)
    lines.append(f"可以导入的{len(check.people)}人分类：{people}（有错误的行不计）。")
    if check.findings:
        lines.append("问题统计：")
        lines += [f"  {code.label}（{code}）：{n}处" for code, n in check.counts_by_code.items()]
    else:
        lines.append("没有发现问题，可以按这个名单导入平台。")
    if unit is not None:
        lines.append("单位校验：")
        lines += [f"  {note}" for note in unit.notes]
        if unit.attachments:
            lines.append("需要上传的附件：")
            lines += [f"  · {a.name}：{a.reason}" for a in unit.attachments]
    lines.append("以上是按手册规则的预检，最终以平台校验结果为准。")
    return lines
