"""Reading the roster out of an .xlsx workbook: the zip checked against a bomb before it
is opened, the one visible sheet with the roster header chosen (hidden sheets are never
read as the roster; several sheets with people are refused, not guessed at), and that
sheet's rows parsed with expat, streaming, keeping only the first ``MAX_COLUMNS`` columns
and within ``MAX_CELLS`` cells. Cell values come out as openpyxl gives them with
``data_only``. The package's other parts are read by ``sheets.xlsx_package``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Generator
from dataclasses import dataclass

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel, from_ISO8601

from rules.catalog import say
from rules.policy import PolicyYear
from rules.roster import RosterField
from sheets.roster_rows import (
    HEADER_SCAN_ROWS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_ZIP_MEMBERS,
    CellValue,
    FileFinding,
    Header,
    Progress,
    Refused,
    RosterFile,
    any_text,
    cleaned,
    collect,
    file_finding,
    find_header,
    missing_columns,
    quoted,
    size_text,
    too_many_cells,
    wide_note,
)
from sheets.xlsx_package import Package, Sheet, Tags, TextCapture, new_parser, unescape

_DIGITS = "0123456789"
_COLUMN_OF = {get_column_letter(i + 1): i for i in range(MAX_COLUMNS)}
_LAST_ROW = re.compile(r"(\d+)$")


@dataclass
class SheetState:
    """What reading a sheet's rows learnt besides the rows."""

    declared: int | None = None
    """The last row the sheet's dimension record names, when it has one."""
    beyond: bool = False
    """A cell right of MAX_COLUMNS has a value."""


def read_xlsx(
    data: bytes,
    name: str,
    policy: PolicyYear,
    progress: Progress | None,
    max_uncompressed: int,
) -> RosterFile | FileFinding:
    """The roster in the workbook ``data`` (a zip), or why it cannot be read."""
    # The sizes in the zip directory bound what decompression may produce (zipfile stops
    # at the declared size and fails the CRC beyond it), so checking them before opening
    # is enough to refuse a zip bomb.
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:
        # zipfile raises BadZipFile, NotImplementedError, ValueError, OSError... on damage.
        return file_finding("unreadable_file", "corrupt", name=name)
    with archive:
        if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > max_uncompressed:
            return file_finding(
                "too_large", "too_large_unzipped", name=name, cap=size_text(max_uncompressed)
            )
        try:
            return _read_workbook(Package(archive), name, policy, progress)
        except Refused as refused:
            return refused.finding(name)
        except Exception:
            # A damaged or hostile file can fail anywhere inside zipfile or the XML parser,
            # with exception types neither documents; for the user each one means the
            # same thing: this file cannot be read.
            return file_finding("unreadable_file", "corrupt", name=name)


def _read_workbook(
    book: Package, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    """The visible sheet with a roster header and people under it. Hidden sheets are
    never read as the roster; several sheets with people are refused, not guessed at."""
    found: list[tuple[Sheet, Header | None, int | None]] = []
    for sheet in book.sheets:
        if sheet.visible:
            header, declared = _header(book, sheet)
            found.append((sheet, header, declared))
    complete = [(s, h, d) for s, h, d in found if h is not None and not h.missing]
    hidden = [
        s.name
        for s in book.sheets
        if not s.visible and (h := _header(book, s)[0]) is not None and not h.missing
    ]
    if not complete:
        if hidden:
            return file_finding("hidden_sheet", "hidden_sheet", sheets=quoted(hidden))
        partial = [(s, h) for s, h, _ in found if h is not None]
        if partial:
            sheet, header = max(partial, key=lambda p: len(p[1].columns))
            return missing_columns(sheet.name, header)
        return file_finding("bad_template", "no_header", rows=HEADER_SCAN_ROWS)
    filled = complete
    if len(complete) > 1:
        filled = [(s, h, d) for s, h, d in complete if _has_people(book, s, h)]
    if len(filled) > 1:
        sheets = [s.name for s, _, _ in filled]
        return file_finding(
            "several_sheets", "several_sheets", name=name, count=len(sheets), sheets=quoted(sheets)
        )
    chosen, header, declared = filled[0] if filled else complete[0]
    empty = [s.name for s, _, _ in complete if s is not chosen]
    # The dimension record says how many rows to expect, unless it is implausible.
    total = declared - header.row if declared and declared > header.row else None
    if total is not None and total > policy.roster.max_rows_per_file:
        total = None
    state = SheetState()
    rows = sheet_rows(book, chosen, state)
    result = collect(name, chosen.name, header, rows, policy, progress, total)
    if isinstance(result, FileFinding):
        if result.code == "empty_roster" and hidden:  # the people are on a hidden sheet
            return file_finding("hidden_sheet", "hidden_sheet", sheets=quoted(hidden))
        return result
    notes: list[str] = []
    if empty:
        notes.append(say("sheets.file.note_empty_sheets", sheets=quoted(empty)))
    if hidden:
        notes.append(say("sheets.file.note_hidden_sheets", sheets=quoted(hidden)))
    if state.beyond:
        notes.append(wide_note(chosen.name))
    return dataclasses.replace(result, ignored_sheets=tuple(empty + hidden), notes=tuple(notes))


def _header(book: Package, sheet: Sheet) -> tuple[Header | None, int | None]:
    """The roster header in the sheet's first rows, and the sheet's declared last row."""
    state = SheetState()
    top: list[tuple[CellValue, ...]] = [()] * HEADER_SCAN_ROWS
    rows = sheet_rows(book, sheet, state, until=HEADER_SCAN_ROWS)
    for number, values in rows:
        if number > HEADER_SCAN_ROWS:
            break
        top[number - 1] = cleaned(values)[0]
    rows.close()
    return find_header(top), state.declared


def _has_people(book: Package, sheet: Sheet, header: Header) -> bool:
    """Whether anyone is under the header: read up to the first such row only."""
    rows = sheet_rows(book, sheet, SheetState())
    try:
        person = [i for f, i in header.columns.items() if f is not RosterField.SEQ]
        return any(
            number > header.row and any_text(cleaned(values)[0], person) for number, values in rows
        )
    finally:
        rows.close()


def sheet_rows(
    book: Package, sheet: Sheet, state: SheetState, until: int = MAX_ROWS
) -> Generator[tuple[int, tuple[CellValue, ...]], None, None]:
    """(row number, values) of each row with a value in its first MAX_COLUMNS columns,
    in sheet order, reading no further than about row ``until``. Rows must ascend; one
    that does not is taken as the next row."""
    shared, epoch = book.shared, book.epoch
    dates, durations = book.date_styles, book.timedelta_styles
    tags = Tags("c", "v", "t", "row", "is", "rPh", "dimension", "sheetData")
    out: list[tuple[int, tuple[CellValue, ...]]] = []
    values: list[CellValue] = []
    text = TextCapture()
    number = 0
    column = -1
    kind = "n"
    style: str | None = None
    keep = has_value = inline = phonetic = ended = False
    kept = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal column, kind, style, keep, has_value, inline, phonetic, number
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
            if text.parts:  # (a check, not a call: this runs for every cell)
                text.clear()
        elif tag == "v":
            if kind != "inlineStr":
                has_value = True
                text.on = keep
        elif tag == "t":
            text.on = keep and inline and not phonetic and kind == "inlineStr"
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
        nonlocal inline, phonetic, ended, kept
        tag = tags[name]
        if tag == "v" or tag == "t":
            text.on = False
        elif tag == "c":
            if not has_value:
                return
            if not keep:
                state.beyond = True
                return
            value = _value(text.take(), kind, style, shared, dates, durations, epoch)
            if value is None or value == "":
                return
            if column >= len(values):
                values.extend([None] * (column - len(values)))
                values.append(value)
            else:
                values[column] = value
            kept += 1
            if kept > MAX_CELLS:
                raise too_many_cells()
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

    for _ in book.feed(
        sheet.part,
        new_parser(start, end, text.data),
        lambda: ended or number > until,
        refusal=too_many_cells,
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
        return unescape(raw)
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
        return unescape(raw)
    if kind == "b":
        return raw in ("1", "true")
    if kind == "d":
        try:
            return from_ISO8601(raw)
        except ValueError:
            return raw
    return raw  # "e": an error such as #N/A, shown as Excel shows it
