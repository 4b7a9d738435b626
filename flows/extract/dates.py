"""Dates from free text relative to today ("7月20日", "下周五", "明年1月", "月底"), with
the role the words give them (起保: coverage start, 提交: roster submitted), placed inside
the policy year when the year is not said; a date the policy data does not cover is
refused with the rules' reason.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from flows.extract.words import NUMBER, cn_int, normalize_text
from flows.flow import Invalid
from rules.catalog import say
from rules.errors import NoPolicyData
from rules.policy import PolicyYear

DateRole = Literal["start", "submit"]


@dataclass(frozen=True)
class DateMention:
    """A date in a message and what it is: the coverage start (起保) or the day the roster
    is submitted (提交), or None when the words do not say."""

    day: dt.date
    role: DateRole | None


_FULL_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?")
_YEAR_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号]?)")
_MONTH_DAY = re.compile(rf"(?<![\d年.])({NUMBER})\s*月\s*(?:份)?\s*(?:({NUMBER})\s*[日号]?)?")
_MONTH_DAY_AT = re.compile(rf"\s*({NUMBER})\s*月\s*(?:({NUMBER})\s*[日号]?)?")
_SLASH_DATE = re.compile(r"(?<![\d./-])(\d{1,2})\s*[./-]\s*(\d{1,2})(?![\d./%-])")
_NAMED_MONTH_END = re.compile(rf"({NUMBER})\s*月\s*(?:份)?\s*(?:的)?\s*(?:底|末|最后一天)")
_RELATIVE_YEAR = {"今年": 0, "明年": 1, "后年": 2, "去年": -1}
_MONTH_WORDS = "下下个月|下个月|下月|这个月|本月|当月"
_RELATIVE_MONTH = dict(zip(_MONTH_WORDS.split("|"), (2, 1, 1, 0, 0, 0), strict=True))
"""Months counted from this one, by their words (longest first: "下下个月" before "下个月")."""
_RELATIVE_DAY = {"大后天": 3, "后天": 2, "明天": 1, "明日": 1, "今天": 0, "今日": 0, "当天": 0,
                 "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1}  # fmt: skip
_WEEKDAY = re.compile(r"(下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_DAY_ONLY = re.compile(rf"(?<![\d月.])({NUMBER})\s*[号日](?!本|期)")
_MONTH_END = re.compile(r"(这个月|本月|下个?月)?\s*(月底|月末)")
_START_WORDS = re.compile(r"起保|生效|开始保|保障开始|开始保障|起算|开始生效|保障从|起")
_SUBMIT_WORDS = re.compile(r"提交|交名单|报名单|交清册|上传|递交|报上去|交上去|办理|交|报")
Span = tuple[dt.date, dt.date]


def _month_day(month: int, day: int, today: dt.date, span: Span | None) -> dt.date:
    """A month and day without a year: the one inside ``span`` (the policy year around
    today), the later one if both fit and the earlier has passed; never silently moved out of
    the span. Without a span, this calendar year."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("no such day")
    if span is not None:
        inside = [c for c in candidates if span[0] <= c <= span[1]]
        if inside:
            upcoming = [c for c in inside if c >= today]
            return min(upcoming) if upcoming else max(inside)
    return dt.date(today.year, month, day)


def _weekday(prefix: str, name: str, today: dt.date) -> dt.date:
    target = int(name) - 1 if name.isdigit() else _WEEKDAYS[name]
    monday = today - dt.timedelta(days=today.weekday())
    if prefix.startswith("下下"):
        weeks = 2
    elif prefix.startswith("下"):
        weeks = 1
    elif prefix.startswith("上"):
        weeks = -1
    elif prefix:
        weeks = 0
    else:  # "周五" alone: the next one, today included
        ahead = (target - today.weekday()) % 7
        return today + dt.timedelta(days=ahead)
    return monday + dt.timedelta(days=7 * weeks + target)


def _role(text: str, start: int, end: int) -> DateRole | None:
    """起保 or 提交, whichever word sits nearest the date (after it first, then before)."""
    after = text[end : end + 8]
    before = text[max(0, start - 10) : start]
    for window in (after, before):
        s, b = _START_WORDS.search(window), _SUBMIT_WORDS.search(window)
        if s and b:
            pick_start = (s.start() < b.start()) if window is after else (s.end() > b.end())
            return "start" if pick_start else "submit"
        if s:
            return "start"
        if b:
            return "submit"
    return None


def find_date(text: str, today: dt.date, span: Span | None = None) -> DateMention | None:
    """The first date in ``text`` relative to ``today``, with its role. Reads "2024年1月15日",
    "2024-1-15", "明年1月" (the 1st), "下个月1号", "7月20", "7.20", "7/20", "16号",
    "下周五", "下礼拜三", "明天", "月底". Month and day without a year are placed by
    ``_month_day``. Impossible or vague dates ("2月30日", "7月", "下周") give None."""
    text = normalize_text(text)
    found = _find_day(text, today, span)
    if found is None:
        return None
    day, start, end = found
    return DateMention(day, _role(text, start, end))


def find_dates(text: str, today: dt.date, span: Span | None = None) -> list[DateMention]:
    """Every date in ``text``, in order ("7月1号起保的话，我们6月20号交名单")."""
    text = normalize_text(text)
    found: list[DateMention] = []
    offset = 0
    while offset < len(text) and len(found) < 5:
        hit = _find_day(text[offset:], today, span)
        if hit is None:
            break
        day, start, end = hit
        found.append(DateMention(day, _role(text, offset + start, offset + end)))
        offset += max(end, 1)
    return found


def _find_day(text: str, today: dt.date, span: Span | None) -> tuple[dt.date, int, int] | None:
    try:
        if m := _FULL_DATE.search(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])), m.start(), m.end()
        if m := _YEAR_MONTH.search(text):
            return dt.date(int(m[1]), int(m[2]), 1), m.start(), m.end()
        for word, offset in _RELATIVE_YEAR.items():
            at = text.find(word)
            if at >= 0 and (m := _MONTH_DAY_AT.match(text, at + len(word))):
                month_of = cn_int(m[1])
                day_of = cn_int(m[3]) if m[3] else 1
                if month_of:
                    day = dt.date(today.year + offset, month_of, day_of or 1)
                    return day, at, m.end()
        if m := _NAMED_MONTH_END.search(text):
            month_of = cn_int(m[1])
            if month_of and 1 <= month_of <= 12:
                first = _month_day(month_of, 1, today, span)  # which year's month
                last = calendar.monthrange(first.year, month_of)[1]
                return first.replace(day=last), m.start(), m.end()
        if m := _MONTH_END.search(text):
            offset = 1 if m[1] and m[1].startswith("下") else 0
            month_index = today.month - 1 + offset
            year, month = today.year + month_index // 12, month_index % 12 + 1
            return dt.date(year, month, calendar.monthrange(year, month)[1]), m.start(), m.end()
        for word, offset in _RELATIVE_MONTH.items():
            at = text.find(word)
            if at >= 0:
                month_index = today.month - 1 + offset
                rest = text[at + len(word) :]
                day_match = re.match(rf"\s*(?:的)?\s*({NUMBER})\s*[日号]?", rest)
                nth = cn_int(day_match[1]) if day_match else 1
                year = today.year + month_index // 12
                end = at + len(word) + (day_match.end() if day_match else 0)
                return dt.date(year, month_index % 12 + 1, nth or 1), at, end
        for word, offset in _RELATIVE_DAY.items():
            if (at := text.find(word)) >= 0:
                return today + dt.timedelta(days=offset), at, at + len(word)
        if m := _WEEKDAY.search(text):
            return _weekday(m[1] or "", m[2], today), m.start(), m.end()
        if m := _MONTH_DAY.search(text):
            month_of = cn_int(m[1])
            if not m[3] or not month_of:
                return None  # "7月" alone is too vague to guess a day
            return _month_day(month_of, cn_int(m[3]) or 0, today, span), m.start(), m.end()
        if m := _SLASH_DATE.search(text):
            month_of, day_of = int(m[1]), int(m[2])
            if 1 <= month_of <= 12:
                return _month_day(month_of, day_of, today, span), m.start(), m.end()
        if m := _DAY_ONLY.search(text):
            day_of = cn_int(m[1])
            if day_of:
                return dt.date(today.year, today.month, day_of), m.start(), m.end()
    except ValueError:
        return None
    return None


_ANY_DAY = dt.date(2000, 1, 15)
"""A reference day in a 31-day month, for asking only whether a text names a date."""


def mentions_date(text: str) -> bool:
    """Whether ``text`` names a date at all, whatever today is (for choosing a flow)."""
    return find_date(text, _ANY_DAY) is not None


def extract_date(text: str, today: dt.date, span: Span | None = None) -> dt.date | None:
    """The date ``find_date`` reads, without its role."""
    found = find_date(text, today, span)
    return found.day if found else None


def policy_span(policy: PolicyYear) -> Span:
    """Where a date without a year is placed: from the centralized window to the year's end."""
    return policy.windows.centralized.open, policy.coverage.end


def _bare_number(text: str) -> bool:
    return bool(re.fullmatch(r"\s*\d+(\.\d+)?\s*", normalize_text(text)))


def mention_within(
    text: str, today: dt.date, check: Callable[[dt.date], object], span: Span | None = None
) -> DateMention | None:
    """``find_date``, refused with the rules' reason when ``check`` (e.g.
    ``coverage_period``) says the policy data does not cover the day; a bare number is
    refused with how to write a date."""
    found = find_date(text, today, span)
    if found is None:
        if _bare_number(text):
            raise Invalid(say("not_a_date", value=text.strip()))
        return None
    try:
        check(found.day)
    except NoPolicyData as exc:
        raise Invalid(exc.message) from None
    return found
