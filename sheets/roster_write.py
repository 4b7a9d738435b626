"""The roster workbooks hubao writes: the platform's import template (sheet 参保名单 ready to
fill, and the instructions), the clean roster in the template's layout (a file the platform
imports), and the annotated report (the roster as uploaded with each bad cell coloured and
a note column, a summary sheet and the list of findings), with ``summary_lines``, the short
account of a check the command line prints too. Every sentence is a catalog entry
``sheets.template.*``, ``sheets.report.*`` or ``sheets.summary.*``; the template's column
headers are the platform's own (``RosterField.template_header``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from rules.catalog import say
from rules.fmt import cn_date
from rules.ids import DocType, Sex
from rules.people import CATEGORY_LABELS, Category
from rules.policy import PolicyYear
from rules.roster import (
    TEMPLATE_FIELDS,
    Person,
    RosterCheck,
    RosterField,
    RowFinding,
    Severity,
    UnitCheck,
)
from sheets.roster_rows import RosterFile
from sheets.xlsx_out import put

Target = Path | str | IO[bytes]
"""Where a workbook is written: a path, or a binary buffer for a file sent in chat."""

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor="FFC7CE"),
    Severity.WARNING: PatternFill("solid", fgColor="FFEB9C"),
}
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
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
# The platform's answers in the 是否有社保 column.
_YES, _NO = "是", "否"
TEXT_FORMAT = "@"
# Characters Excel refuses in a sheet title (a CSV file's name becomes the title).
_SHEET_TITLE_BANNED = re.compile(r"[\\/?*\[\]:]")


def _template_workbook(policy: PolicyYear, rows: int) -> tuple[Any, Any]:
    """A workbook laid out as the platform's import template, with ``rows`` data rows
    prepared (ID and phone columns as text, drop-down lists)."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = say("sheets.sheet.roster")
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
        RosterField.SOCIAL_INSURANCE: [_YES, _NO],
    }
    for name, options in choices.items():
        letter = get_column_letter(TEMPLATE_FIELDS.index(name) + 1)
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=say("sheets.template.pick_title"),
            error=say("sheets.template.pick_only", field=name.value, options=options),
        )
        validation.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(validation)
    return workbook, ws


def _instructions(policy: PolicyYear) -> list[str]:
    """The lines of sheet 填写说明, its title first."""
    text = say(
        "sheets.template.instructions",
        required=[f.value for f in TEMPLATE_FIELDS if f.required],
        female=policy.age_limits.female,
        male=policy.age_limits.male,
        max_rows=policy.roster.max_rows_per_file,
    )
    return text.splitlines()


def write_template(path: Target, *, policy: PolicyYear) -> None:
    """The import template: sheet 参保名单 ready to fill, and sheet 填写说明."""
    workbook, _ = _template_workbook(policy, policy.roster.max_rows_per_file)
    guide = workbook.create_sheet(say("sheets.sheet.instructions"))
    guide.column_dimensions["A"].width = 110
    for index, line in enumerate(_instructions(policy), start=1):
        cell = put(guide, index, 1, line)
        cell.alignment = _WRAP
        if index == 1:
            cell.font = _TITLE
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
        RosterField.SOCIAL_INSURANCE: _YES if person.has_social_insurance else _NO,
    }
    return [values[f] for f in TEMPLATE_FIELDS]


def _note(finding: RowFinding) -> str:
    # The full corrected value (suggestion) is shown only here, in the unit's own workbook.
    return say(
        "sheets.report.note",
        column=finding.column,
        message=finding.message,
        suggestion=finding.suggestion,
    )


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
    title = _SHEET_TITLE_BANNED.sub("", roster.sheet)[:31].strip("'")
    ws.title = title or say("sheets.sheet.roster")
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
    note = put(ws, roster.header_row, note_column, say("sheets.report.note_header"))
    note.font = _BOLD
    note.fill = _FILLS[Severity.ERROR]
    ws.column_dimensions[get_column_letter(note_column)].width = 80
    ws.freeze_panes = ws.cell(roster.header_row + 1, 1).coordinate

    notes = [_note(f) for f in check.findings]
    by_row: dict[int, list[tuple[RowFinding, str]]] = defaultdict(list)
    for finding, text in zip(check.findings, notes, strict=True):
        by_row[finding.row].append((finding, text))
    for row, noted in by_row.items():
        worst = (
            Severity.ERROR
            if any(f.severity is Severity.ERROR for f, _ in noted)
            else Severity.WARNING
        )
        for finding, _ in noted:
            column = roster.columns.get(finding.field)
            if column is not None:
                cell = ws.cell(row, column + 1)
                # An error colour is never overwritten by a warning on the same cell.
                if cell.fill != _FILLS[Severity.ERROR]:
                    cell.fill = _FILLS[finding.severity]
        cell = put(ws, row, note_column, "\n".join(text for _, text in noted))
        cell.fill = _FILLS[worst]
        cell.alignment = _WRAP

    summary = workbook.create_sheet(say("sheets.sheet.summary"))
    summary.column_dimensions["A"].width = 100
    lines = summary_lines(roster, check, unit, as_of=as_of)
    lines += ["", say("sheets.report.colours")]
    for index, line in enumerate(lines, start=1):
        cell = put(summary, index, 1, line)
        cell.alignment = _WRAP
    summary.cell(1, 1).font = _TITLE

    listing = workbook.create_sheet(say("sheets.sheet.findings"))
    for c, heading in enumerate(say("sheets.report.findings_header").splitlines(), start=1):
        put(listing, 1, c, heading).font = _BOLD
    levels = {s: say(f"sheets.report.level.{s.value}") for s in Severity}
    for r, (finding, text) in enumerate(zip(check.findings, notes, strict=True), start=2):
        level = levels[finding.severity]
        for c, value in enumerate(
            (finding.row, finding.column, str(finding.code), level, text), start=1
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
    people = len(check.people)
    lines = [
        say(
            "sheets.summary.title", file=roster.filename, sheet=roster.sheet, row=roster.header_row
        ),
        *roster.notes,  # the sheets and columns that were not read, said, never silent
        say(
            "sheets.summary.counts",
            rows=check.rows,
            people=people,
            errors=error_rows,
            warnings=warning_rows,
        ),
    ]
    if as_of is not None:
        lines.append(say("sheets.summary.as_of", date=cn_date(as_of)))
    # Over the people who can be imported, so the figures add up to them.
    shown = check.people_categories
    counts = [(CATEGORY_LABELS[c], shown.get(c, 0)) for c in Category]
    lines.append(say("sheets.summary.categories", people=people, counts=counts))
    if check.findings:
        lines.append(say("sheets.summary.findings"))
        lines += [
            "  " + say("sheets.summary.finding_count", label=code.label, code=code, count=n)
            for code, n in check.counts_by_code.items()
        ]
    else:
        lines.append(say("sheets.summary.no_findings"))
    if unit is not None:
        lines.append(say("sheets.summary.unit"))
        lines += [f"  {note}" for note in unit.notes]
        if unit.attachments:
            lines.append(say("sheets.summary.attachments"))
            lines += [
                "  " + say("sheets.summary.attachment", name=a.name, reason=a.reason)
                for a in unit.attachments
            ]
    lines.append(say("sheets.summary.caveat"))
    return lines
