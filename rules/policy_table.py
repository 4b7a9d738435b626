"""A policy year as a table of (label, value) rows, for ``hubao policy show`` and ``diff``.

The hotline compares these rows line by line with a new handbook, so each row holds one
figure, worded as the handbook words it (dates in Chinese, money in yuan); labels and
units come from the catalog (``rules.policy_table.*``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from rules.catalog import say
from rules.fmt import cn_date, percent, yuan
from rules.policy import PolicyYear

T = "rules.policy_table"

Row = tuple[str, str]


def year_rows(policy: PolicyYear) -> list[Row]:
    """The year's figures, one (label, value) row each, in the handbook's order."""
    rows = [
        _row("year", str(policy.year)),
        _row("status", _status(policy)),
    ]
    if policy.published_by:
        rows.append(_row("published_by", policy.published_by))
    if policy.published_at:
        rows.append(_row("published_at", _moment(policy.published_at)))
    rows += [
        _row("handbook_revision", cn_date(policy.handbook_revision)),
        _row("coverage", _period(policy.coverage.start, policy.coverage.end)),
        _row(
            "centralized",
            _period(policy.windows.centralized.open, policy.windows.centralized.close),
        ),
        _row("instant_open", cn_date(policy.windows.instant_open)),
    ]
    for tier in policy.pricing:
        name = say(f"label.tier.{tier.tier.value}")
        rows.append(_row("tier_dates", _period(tier.start_from, tier.start_to), tier=name))
        rows += [
            _row("price", _yuan(price), tier=name, code=code)
            for code, price in tier.prices.items()
        ]
        rows.append(_row("trio_discount", _yuan(tier.trio_discount), tier=name))
    days = policy.review_working_days
    roster = policy.roster
    rows += [
        _row("trio", "、".join(policy.trio)),
        _row("age_female", say(f"{T}.value.age", n=policy.age_limits.female)),
        _row("age_male", say(f"{T}.value.age", n=policy.age_limits.male)),
        _row("max_rows", say(f"{T}.value.people", n=roster.max_rows_per_file)),
        _row("change_tolerance", percent(roster.change_tolerance)),
        _row(
            "si_ratio",
            say(
                f"{T}.value.range",
                low=percent(roster.si_ratio_min),
                high=percent(roster.si_ratio_max),
            ),
        ),
        _row("small_unit", say(f"{T}.value.people", n=roster.small_unit_max_people)),
        _row("review_code", _working(days.enrollment_code)),
        _row("review_attachments", _working(days.attachments)),
        _row("review_voucher", _working(days.voucher)),
        _row(
            "review_recovery",
            say(
                f"{T}.value.working_days_range",
                low=days.account_recovery_min,
                high=days.account_recovery_max,
            ),
        ),
        _row("account", policy.payment.account),
        _row("payee", policy.payment.payee),
        _row("bank", policy.payment.bank),
        _row("transfer_days", say(f"{T}.value.days", n=policy.payment.transfer_within_days)),
        _row("hotline", policy.contacts.hotline),
    ]
    return rows


def diff_rows(old: PolicyYear, new: PolicyYear) -> list[tuple[str, str, str]]:
    """(label, old value, new value) for each row that differs, rows matched by label; a
    row only one year has shows an empty value on the other side."""
    before, after = dict(year_rows(old)), dict(year_rows(new))
    labels = list(after) + [label for label in before if label not in after]
    return [
        (label, before.get(label, ""), after.get(label, ""))
        for label in labels
        if before.get(label, "") != after.get(label, "")
    ]


def _row(name: str, value: str, **values: Any) -> Row:
    return say(f"{T}.label.{name}", **values), value


def _status(policy: PolicyYear) -> str:
    if policy.status == "draft":
        return say(f"{T}.value.draft", count=len(policy.review))
    return say(f"{T}.value.published")


def _period(start: dt.date, end: dt.date) -> str:
    return say(f"{T}.value.period", start=cn_date(start), end=cn_date(end))


def _yuan(amount: Decimal) -> str:
    return say(f"{T}.value.yuan", amount=yuan(amount))


def _working(days: int) -> str:
    return say(f"{T}.value.working_days", n=days)


def _moment(moment: dt.datetime) -> str:
    return f"{cn_date(moment.date())} {moment:%H:%M}"
