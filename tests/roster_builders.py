"""Builders for roster tests: valid ID numbers, roster rows, and roster workbooks and CSV
files written into a test's tmp_path (no binary fixtures in the repository)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


# --- workbooks written part by part ----------------------------------------------------
# For files no spreadsheet program would write (hidden sheets, huge style tables, cells in
# column XFD), the zip members are written directly, streamed so big ones cost little.

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DATE_STYLE = 1
"""Index of the date style (numFmtId 14) in ``DEFAULT_STYLES``."""
DEFAULT_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="2"><xf numFmtId="0"/>'
    '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
).encode()


@dataclass(frozen=True)
class RawSheet:
    """A worksheet as ``<row>`` elements (bytes), written inside ``<sheetData>``."""

    name: str
    rows: Iterable[bytes]
    state: str = "visible"
    dimension: str | None = None


def _excel_escape(text: str) -> str:
    """XML text as Excel writes it: C0 controls, which XML forbids, as ``_xHHHH_``."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(
        f"_x{ord(ch):04X}_" if ord(ch) < 32 and ch not in "\t\n\r" else ch for ch in text
    )


def xml_cell(ref: str, value: Any, *, style: int | None = None) -> str:
    """One ``<c>`` element: text as an inline string, numbers and booleans as values."""
    s = "" if style is None else f' s="{style}"'
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    return f'<c r="{ref}" t="inlineStr"{s}><is><t>{_excel_escape(str(value))}</t></is></c>'


def xml_row(number: int, values: Sequence[Any] = (), *, extra: str = "") -> bytes:
    """A ``<row>`` with ``values`` from column A (None and "" left out), then ``extra``."""
    from openpyxl.utils import get_column_letter

    cells = "".join(
        xml_cell(f"{get_column_letter(c)}{number}", v)
        for c, v in enumerate(values, start=1)
        if v is not None and v != ""
    )
    return f'<row r="{number}">{cells}{extra}</row>'.encode()


def _write_chunks(archive: zipfile.ZipFile, name: str, parts: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as member:
        batch: list[bytes] = []
        for part in parts:
            batch.append(part)
            if len(batch) >= 20_000:
                member.write(b"".join(batch))
                batch.clear()
        member.write(b"".join(batch))


def raw_xlsx(
    sheets: Sequence[RawSheet],
    *,
    shared_strings: Iterable[bytes] | None = None,
    styles: Iterable[bytes] = (DEFAULT_STYLES,),
    workbook_pr: str = "",
    compresslevel: int | None = None,
) -> bytes:
    """An .xlsx package with these sheets (in this order), optional ``<si>`` elements for
    xl/sharedStrings.xml and the chunks of xl/styles.xml. ``compresslevel`` 1 makes big
    members quick to write."""
    buffer = io.BytesIO()
    overrides = [
        ("/xl/workbook.xml", "sheet.main+xml"),
        ("/xl/styles.xml", "styles+xml"),
        *((f"/xl/worksheets/sheet{i}.xml", "worksheet+xml") for i in range(1, len(sheets) + 1)),
    ]
    if shared_strings is not None:
        overrides.append(("/xl/sharedStrings.xml", "sharedStrings+xml"))
    types = "".join(
        f'<Override PartName="{part}" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.{kind}"/>'
        for part, kind in overrides
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    rels += f'<Relationship Id="rStyles" Type="{REL_NS}/styles" Target="styles.xml"/>'
    if shared_strings is not None:
        rels += (
            f'<Relationship Id="rStrings" Type="{REL_NS}/sharedStrings"'
            ' Target="sharedStrings.xml"/>'
        )
    entries = "".join(
        f'<sheet name="{_excel_escape(s.name)}" sheetId="{i}"'
        + ("" if s.state == "visible" else f' state="{s.state}"')
        + f' r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + types + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" Type="{REL_NS}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{workbook_pr}'
            f"<sheets>{entries}</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PKG_REL_NS}">{rels}</Relationships>',
        )
        for i, sheet in enumerate(sheets, start=1):
            dimension = "" if sheet.dimension is None else f'<dimension ref="{sheet.dimension}"/>'
            _write_chunks(
                z,
                f"xl/worksheets/sheet{i}.xml",
                itertools.chain(
                    [f'<worksheet xmlns="{MAIN_NS}">{dimension}<sheetData>'.encode()],
                    sheet.rows,
                    [b"</sheetData></worksheet>"],
                ),
            )
        _write_chunks(z, "xl/styles.xml", styles)
        if shared_strings is not None:
            _write_chunks(
                z,
                "xl/sharedStrings.xml",
                itertools.chain(
                    [f'<sst xmlns="{MAIN_NS}">'.encode()], shared_strings, [b"</sst>"]
                ),
            )
    return buffer.getvalue()


def roster_sheet(
    name: str,
    numbers: Sequence[str],
    *,
    state: str = "visible",
    person: str = "张三",
    header: Sequence[str] = TEMPLATE_HEADER,
) -> RawSheet:
    """A sheet holding the template header and one valid row per ID number."""
    rows = [xml_row(1, header)]
    rows += [
        xml_row(r, row_values(n, seq=r - 1, name=person)) for r, n in enumerate(numbers, start=2)
    ]
    return RawSheet(name, rows, state)
