"""The files the enrollment flow sends: the import template, the annotated roster, the
clean roster to import, and the unit's summary workbook. Built in memory, never on disk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import openpyxl
from openpyxl.styles import Alignment, Font

from rules.catalog import say
from rules.fmt import cn_date, yuan
from rules.people import CATEGORY_LABELS, Category
from rules.policy import PolicyYear
from rules.premium import UnitQuote
from rules.roster import Person, RosterCheck
from sheets.roster_rows import RosterFile
from sheets.roster_write import write_people, write_report, write_template
from sheets.xlsx_out import put, workbook_bytes

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


_TEMPLATES: dict[tuple[int, dt.date], bytes] = {}


def template_bytes(policy: PolicyYear) -> bytes:
    """Built once per policy year: writing its 5000 prepared rows takes a second or two."""
    version = (policy.year, policy.handbook_revision)
    if version not in _TEMPLATES:
        _TEMPLATES[version] = workbook_bytes(lambda out: write_template(out, policy=policy))
    return _TEMPLATES[version]


def report_bytes(roster: RosterFile, check: RosterCheck, *, as_of: dt.date) -> bytes:
    return workbook_bytes(lambda out: write_report(out, roster, check, as_of=as_of))


def clean_roster_bytes(people: Sequence[Person], policy: PolicyYear) -> bytes:
    return workbook_bytes(lambda out: write_people(out, people, policy=policy))


def summary_workbook_bytes(
    *,
    unit: str,
    mode: str,
    submitted: dt.date,
    quote: UnitQuote,
    people: Sequence[tuple[int, str, str, Category]],
    deadline: str,
    policy: PolicyYear,
    attachments: Sequence[Sequence[str]],
) -> bytes:
    """Sheet 参保汇总 (the facts a handler files away) and sheet 参保人员 (each person's
    plans and premium). ID numbers appear masked only: this file may be forwarded."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = say("sheets.sheet.enroll_summary")
    per_category = {c.category: c for c in quote.categories}
    plans = {
        c: say("sheets.enroll.plans_value", plans=q.person.plans) for c, q in per_category.items()
    }
    payment = policy.payment
    rows: list[tuple[str, str]] = [
        (say("sheets.enroll.unit"), unit),
        (say("sheets.enroll.mode"), mode),
        (say("sheets.enroll.submitted"), cn_date(submitted)),
        (
            say("sheets.enroll.period"),
            say(
                "sheets.enroll.period_value",
                start=cn_date(quote.start),
                end=cn_date(policy.coverage.end),
            ),
        ),
        (say("sheets.enroll.tier"), say(f"label.tier.{quote.tier.value}")),
        (say("sheets.enroll.plans"), say("sheets.enroll.plans_value", plans=quote.plans)),
    ]
    for quoted in quote.categories:
        value = say(
            "sheets.enroll.category_value",
            people=quoted.people,
            price=yuan(quoted.person.total),
            plans=quoted.person.plans,
            subtotal=yuan(quoted.subtotal),
        )
        rows.append((quoted.label, value))
    if quote.discount_total:
        amount = yuan(quote.discount_total)
        rows.append(
            (say("sheets.enroll.discount"), say("sheets.enroll.discount_value", amount=amount))
        )
    rows += [
        (say("sheets.enroll.total"), say("sheets.enroll.total_value", amount=yuan(quote.total))),
        (say("sheets.enroll.payee"), payment.payee),
        (say("sheets.enroll.account"), payment.account),
        (say("sheets.enroll.bank"), payment.bank),
        (
            say("sheets.enroll.deadline"),
            say(
                "sheets.enroll.deadline_value",
                days=payment.transfer_within_days,
                deadline=deadline,
            ),
        ),
    ]
    label = say("sheets.enroll.attachments")
    rows += [
        (label, say("sheets.enroll.attachment_value", name=name, reason=reason))
        for name, reason in attachments
    ]
    rows.append((say("sheets.enroll.note"), say("sheets.enroll.note_value")))
    for r, (label, value) in enumerate(rows, start=1):
        put(ws, r, 1, label).font = _BOLD
        put(ws, r, 2, value).alignment = _WRAP
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90

    sheet = workbook.create_sheet(say("sheets.sheet.enroll_people"))
    for c, title in enumerate(say("sheets.enroll.people_header").splitlines(), 1):
        put(sheet, 1, c, title).font = _BOLD
    for r, (row, name, masked, category) in enumerate(people, start=2):
        cat = per_category.get(category)
        values: tuple[object, ...] = (
            row,
            name,
            masked,
            CATEGORY_LABELS[category],
            plans[category] if cat else "",
            float(cat.person.total) if cat else 0.0,
        )
        for c, cell in enumerate(values, start=1):
            put(sheet, r, c, cell)
    for letter, width in zip("ABCDEF", (8, 12, 22, 22, 24, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    return workbook_bytes(workbook.save)
