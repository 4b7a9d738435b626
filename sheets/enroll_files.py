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
from sheets.roster_file import (
    RosterFile,
    write_people,
    write_report,
    write_template,
)
from sheets.xlsx_out import put, workbook_bytes

SUMMARY_SHEET = "参保汇总"
PEOPLE_SHEET = "参保人员"
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
    ws.title = SUMMARY_SHEET
    per_category = {c.category: c for c in quote.categories}
    rows: list[tuple[str, str]] = [
        ("参保单位", unit),
        ("办理方式", mode),
        ("提交名单日期", cn_date(submitted)),
        ("保障期", f"{cn_date(quote.start)}至{cn_date(policy.coverage.end)}"),
        ("缴费标准", say(f"label.tier.{quote.tier.value}")),
        ("保障项目", "、".join(quote.plans)),
    ]
    for quoted in quote.categories:
        rows.append(
            (
                quoted.label,
                f"{quoted.people}人，每人{yuan(quoted.person.total)}元"
                f"（{'、'.join(quoted.person.plans)}），小计{yuan(quoted.subtotal)}元",
            )
        )
    if quote.discount_total:
        rows.append(("同时参保优惠", f"共{yuan(quote.discount_total)}元"))
    rows += [
        ("应缴保费合计", f"{yuan(quote.total)}元"),
        ("汇款户名", policy.payment.payee),
        ("汇款账号", policy.payment.account),
        ("开户行", policy.payment.bank),
        ("汇款期限", f"提交确认保费后{policy.payment.transfer_within_days}天内（最迟{deadline}）"),
    ]
    rows += [("需上传附件", f"{name}：{reason}") for name, reason in attachments]
    rows.append(("说明", "按手册规则测算，最终以平台【保费详细】和平台状态为准。"))
    for r, (label, value) in enumerate(rows, start=1):
        put(ws, r, 1, label).font = _BOLD
        put(ws, r, 2, value).alignment = _WRAP
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 90

    sheet = workbook.create_sheet(PEOPLE_SHEET)
    for c, title in enumerate(
        ("原行号", "姓名", "证件号码", "人员类别", "参加项目", "保费(元)"), 1
    ):
        put(sheet, 1, c, title).font = _BOLD
    for r, (row, name, masked, category) in enumerate(people, start=2):
        cat = per_category.get(category)
        values: tuple[object, ...] = (
            row,
            name,
            masked,
            CATEGORY_LABELS[category],
            "、".join(cat.person.plans) if cat else "",
            float(cat.person.total) if cat else 0.0,
        )
        for c, cell in enumerate(values, start=1):
            put(sheet, r, c, cell)
    for letter, width in zip("ABCDEF", (8, 12, 22, 22, 24, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    return workbook_bytes(workbook.save)
