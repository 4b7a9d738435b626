"""Roster workbooks: reading what handlers upload, and writing the import template, the
annotated report and the clean file. All the file I/O of roster checking lives here; the
checks themselves are pure functions in ``rules.roster``.

Reading never raises on a bad file: a file the checks cannot use comes back as a
``FileFinding`` (code and Chinese message). Workbooks are opened in openpyxl's read-only
mode, which streams the sheet instead of building every cell object: a 5000-row roster
is read faster than openpyxl's default loader can merely open it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from flows.xlsx_out import put
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

CellValue = Any
"""A value as openpyxl or the csv module hands it over (str, int, float, datetime, ...)."""

Target = Path | str | IO[bytes]
"""Where a workbook is written: a path, or a binary buffer for a file sent in chat."""

Progress = Callable[[int, int | None], None]
"""Called with (data rows read, rows expected or None when the file does not say)."""

# Caps against files that would exhaust memory or time: a real roster of 5000 people is
# well under 1 MB zipped and a few MB unzipped.
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
# Titles and notes above the header are common; the header is looked for in these rows.
HEADER_SCAN_ROWS = 10
# A run of blank rows this long ends the data (sheets formatted down to row 1048576).
MAX_BLANK_RUN = 10_000
PROGRESS_EVERY = 500

ROSTER_SHEET = "参保名单"
INSTRUCTIONS_SHEET = "填写说明"
SUMMARY_SHEET = "检查结果"
FINDINGS_SHEET = "问题清单"
NOTE_HEADER = "问题说明"

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".et"}

_TEXT = {
    "no_file": "找不到文件“{name}”。请检查路径后再试。",
    "empty_file": "文件“{name}”是空的（0字节）。请确认保存的是填好的名单。",
    "ole2": (
        "文件“{name}”是旧版 .xls 格式，或者设置了打开密码，无法读取。"
        "请在 Excel 中取消密码，并“另存为”Excel 工作簿（.xlsx）后再检查。"
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
    "no_header": (
        "在文件前{rows}行里找不到名单的表头（姓名、证件类型、证件号码、是否有社保）。"
        "请用 hubao roster template 生成的模板填写，不要改动表头。"
    ),
    "missing_columns": (
        "工作表“{sheet}”第{row}行是表头，但缺少必填列：{columns}。"
        "请按模板补上这些列（表头文字保持不变）。"
    ),
    "too_many_rows": (
        "这个文件超过{limit}人，平台一个文件最多导入{limit}人。"
        "请把名单拆成几个文件（每个不超过{limit}人），逐个检查、逐个上传。"
    ),
    "empty_roster": (
        "工作表“{sheet}”第{row}行是表头，但下面没有任何人员。请在表头下方逐行填写参保人员。"
    ),
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


def _header_key(value: CellValue) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", text)).lower()


_FIELD_OF_HEADER: dict[str, RosterField] = {
    _header_key(name): field for field, names in _HEADER_SYNONYMS.items() for name in names
}


@dataclass(frozen=True)
class FileFinding:
    """Why a file cannot be checked at all."""

    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class RosterFile:
    """A roster as read: its data rows, where they were, and every cell for the report."""

    filename: str
    sheet: str
    header_row: int
    columns: Mapping[RosterField, int]
    """0-based column index of each template field the file has."""
    headers: Mapping[RosterField, str]
    """Each field's header text as the file writes it."""
    rows: tuple[RosterRow, ...]
    cells: tuple[tuple[CellValue, ...], ...]
    """Every sheet row from row 1 to the last data row, values as read."""


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


def _roster_row(number: int, values: Sequence[CellValue], header: _Header) -> RosterRow:
    cells: dict[RosterField, str] = {}
    numeric: set[RosterField] = set()
    for name, index in header.columns.items():
        text, is_number = _cell_text(values[index] if index < len(values) else None)
        cells[name] = text
        if is_number:
            numeric.add(name)
    return RosterRow(number, cells, frozenset(numeric))


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
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return FileFinding(
                "too_large",
                _TEXT["too_large"].format(name=path.name, size=_size(size), cap=_size(max_bytes)),
            )
        data = path.read_bytes()
    except FileNotFoundError:
        return FileFinding("unreadable_file", _TEXT["no_file"].format(name=path.name))
    except OSError:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=path.name))
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
    name = Path(filename).name or "名单"
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
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception:
        # zipfile raises BadZipFile, NotImplementedError, ValueError, OSError... on damage.
        return corrupt
    if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > max_uncompressed:
        return FileFinding(
            "too_large", _TEXT["too_large_unzipped"].format(name=name, cap=_size(max_uncompressed))
        )
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; none matter here.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=True, keep_links=False
            )
            try:
                return _read_workbook(workbook, name, policy, progress)
            finally:
                workbook.close()
    except Exception:
        # A damaged or hostile file can fail anywhere inside zipfile, the XML parser or
        # openpyxl, with exception types none of them document; for the user each one
        # means the same thing: this file cannot be read.
        return corrupt


def _read_workbook(
    workbook: Any, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    sheets = sorted(workbook.worksheets, key=lambda ws: ws.title != ROSTER_SHEET)
    best: tuple[Any, _Header] | None = None
    for ws in sheets:
        top = [
            tuple(r) for r in ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS, values_only=True)
        ]
        header = _find_header(top)
        if header is None:
            continue
        if not header.missing:
            best = (ws, header)
            break
        if best is None or len(header.columns) > len(best[1].columns):
            best = (ws, header)
    if best is None:
        return FileFinding("bad_template", _TEXT["no_header"].format(rows=HEADER_SCAN_ROWS))
    ws, header = best
    if header.missing:
        return _missing_columns(ws.title, header)
    declared = ws.max_row if isinstance(ws.max_row, int) else None
    # Some writers record a wrong sheet size; read every row the sheet really has.
    ws.reset_dimensions()
    total = declared - header.row if declared and declared > header.row else None
    return _collect(
        name, ws.title, header, ws.iter_rows(min_row=1, values_only=True), policy, progress, total
    )


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
    values: Iterable[Sequence[CellValue]],
    policy: PolicyYear,
    progress: Progress | None,
    total: int | None,
) -> RosterFile | FileFinding:
    limit = policy.roster.max_rows_per_file
    rows: list[RosterRow] = []
    cells: list[tuple[CellValue, ...]] = []
    last = header.row
    blank_run = 0
    for number, raw in enumerate(values, start=1):
        line = tuple(raw) if any(v is not None and v != "" for v in raw) else ()
        cells.append(line)
        if number <= header.row:
            continue
        row = _roster_row(number, line, header)
        if row.is_blank:
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
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


def _decode(data: bytes) -> str | None:
    # Excel on Chinese Windows saves CSV in GBK; everything else is UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_csv(
    data: bytes, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    text = _decode(data)
    if text is None or "\x00" in text:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        return FileFinding("unreadable_file", _TEXT["corrupt"].format(name=name))
    header = _find_header(table)
    if header is None:
        return FileFinding("bad_template", _TEXT["no_header"].format(rows=HEADER_SCAN_ROWS))
    sheet = Path(name).stem or ROSTER_SHEET
    if header.missing:
        return _missing_columns(sheet, header)
    return _collect(name, sheet, header, table, policy, progress, len(table) - header.row)


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
        for r in range(roster.header_row + 1, len(roster.cells) + 1):
            cell = ws.cell(r, id_column + 1)
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
        f"共{check.rows}人：可以导入{len(check.people)}人，有错误{error_rows}行，"
        f"需要确认{warning_rows}行。",
    ]
    if as_of is not None:
        lines.append(f"年龄按起保日{cn_date(as_of)}计算。")
    people = "，".join(f"{CATEGORY_LABELS[c]}{check.categories.get(c, 0)}人" for c in Category)
    if check.undetermined:
        people += f"，无法判断{check.undetermined}人（信息有误）"
    lines.append(f"人员分类：{people}。")
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
