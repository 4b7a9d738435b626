"""Rolling a policy year forward into a draft of a later year (``hubao policy new``).

Every date moves by whole years; every figure (prices, discounts, limits, ages, plans,
series, account, contacts) is copied unchanged; and the path of each copied figure and
moved date goes into ``review``, so nothing reaches the public before an operator has
compared it with the new handbook.

Working days: the handbook gives the windows and the coverage as calendar dates (the 2023
instant window opened on a Saturday, 2023-07-01), and ties only review times to working
days, which are counts, not dates. So no date is shifted to a working day; instead a
window date that lands on a weekend or holiday gets an extra review mark
(``"<path>:non_working_day"``), for the operator to check against the new handbook.
China's calendar (chinesecalendar) has no data past its last year; for later dates the
working-day judgement counts weekends only and the date is marked
``"<path>:calendar_estimate"``. Review entries are thus dotted paths, optionally with a
``:reason`` suffix after the path."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import chinese_calendar

from rules.policy import PolicyYear

NON_WORKING_DAY = "non_working_day"
CALENDAR_ESTIMATE = "calendar_estimate"

# Fields about the file itself, not figures from the handbook: never copied or marked.
_NOT_COPIED = frozenset({"year", "status", "review", "published_by", "published_at"})
# Dates the handbook states as days a unit acts on: worth a look when they fall on a
# weekend or holiday. Coverage and price-tier bounds are periods, not office days.
_ACTION_DATES = ("windows.centralized.open", "windows.centralized.close", "windows.instant_open")


def working_day(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, is an estimate): China's official calendar where its data
    reaches; past it, Monday to Friday, an estimate that ignores holidays."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


def shift_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved by ``years``; a month's last day stays its last day (so 2024-02-29
    and 2023-02-28 map onto each other and price tiers stay contiguous)."""
    year = day.year + years
    last = calendar.monthrange(day.year, day.month)[1]
    target_last = calendar.monthrange(year, day.month)[1]
    return day.replace(year=year, day=target_last if day.day == last else day.day)


def roll_forward(source: PolicyYear, year: int) -> dict[str, Any]:
    """A draft of ``year`` from ``source``: dates moved, figures copied and marked for
    review, ``status: draft``; YAML-ready data (dates as dates, money as strings), which
    ``yaml.safe_dump`` writes and ``PolicyYear.model_validate(parse_yaml(...))`` reads back.

    ``handbook_revision`` keeps the source's date (it is marked: the operator enters the
    new handbook's revision date); a placeholder date would look like a real one."""
    if year <= source.year:
        raise ValueError(f"a draft rolls forward: {year} is not after {source.year}")
    offset = year - source.year
    review: list[str] = []
    copied = source.model_dump(mode="python", exclude=set(_NOT_COPIED), exclude_none=True)
    body = {key: _copy(value, key, offset, review) for key, value in copied.items()}
    # handbook_revision is the source's own revision date, not moved with the others.
    body["handbook_revision"] = source.handbook_revision
    review.extend(_day_marks(body))
    return {"year": year, "status": "draft", "review": review, **body}


def _copy(value: Any, path: str, offset: int, review: list[str]) -> Any:
    """``value`` in YAML-ready types, dates moved; each leaf's path appended to ``review``."""
    if isinstance(value, dict):
        return {k: _copy(v, f"{path}.{k}", offset, review) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if all(_is_scalar(v) for v in value):
            # A list of codes (the trio) is one figure: confirmed as a whole.
            review.append(path)
            return [_scalar(v, offset) for v in value]
        return [_copy(v, f"{path}.{i}", offset, review) for i, v in enumerate(value)]
    if not path.endswith(".tier") or not isinstance(value, Enum):
        # A price tier's kind is the row's name, not a figure to confirm.
        review.append(path)
    return _scalar(value, offset)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _scalar(value: Any, offset: int) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        # Money and ratios stay exact, as strings the loader reads back as written.
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        raise TypeError("a policy year holds dates, not times")
    if isinstance(value, dt.date):
        return shift_years(value, offset)
    return value


def _day_marks(body: dict[str, Any]) -> list[str]:
    """Extra marks for the action dates on non-working days and for every date whose
    working-day judgement is an estimate."""
    marks = []
    for path in _ACTION_DATES:
        working, estimate = working_day(_get(body, path))
        if not working:
            marks.append(f"{path}:{NON_WORKING_DAY}")
        if estimate:
            marks.append(f"{path}:{CALENDAR_ESTIMATE}")
    for path in ("coverage.start", "coverage.end"):
        if working_day(_get(body, path))[1]:
            marks.append(f"{path}:{CALENDAR_ESTIMATE}")
    return marks


def _get(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value[part]
    return value
