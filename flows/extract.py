"""Slot values from free Chinese text: plan codes, dates, head counts, yes/no.

Every extractor returns None when the text says nothing about its slot, so one message can
be offered to all of a form's extractors and fill whatever it mentions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from flows.flow import Invalid
from flows.texts import say
from rules.errors import NoPolicyData
from rules.policy import PolicyYear

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = r"[零〇一二两三四五六七八九十百千]+"
_NUMBER = rf"(\d+|{_CN_NUMBER})"


QUESTION = re.compile(
    r"[?？]|怎么|如何|什么|为什么|为啥|哪|吗|呢|多少|多久|能否|能不能|可不可以|是否"
)
"""Words that make a message a question rather than an answer to the one asked."""


def normalize_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def cn_int(token: str) -> int | None:
    """ "8" -> 8, "十二" -> 12, "两百零五" -> 205, "三十" -> 30; None if not a number."""
    if token.isdigit():
        return int(token)
    total, section, digit = 0, 0, None
    units = {"十": 10, "百": 100, "千": 1000}
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in units:
            section += (digit if digit is not None else 1) * units[ch]
            digit = None
        else:
            return None
    return total + section + (digit or 0)


# --- plans -----------------------------------------------------------------------------

_CODE = re.compile(r"(?<![a-z])([abc])\s*([0-3])(?![0-9])", re.I)
_TRIO = re.compile(
    r"(三个|三项|3个|3项|全部|所有)基本|基本(保障|项目)?(都|全)(要|选|参加)|基本三项"
)
_SERIES = {"A": r"在职住院|住院", "B": r"特种重病|重大疾病|重病|重疾", "C": r"意外伤害|意外"}
_LEVEL = {"0": r"基本", "1": r"加强\s*一档|一档|加强1档|1档", "2": r"加强\s*二档|二档|2档",
          "3": r"加强\s*三档|三档|3档"}  # fmt: skip


def extract_plans(text: str) -> tuple[str, ...] | None:
    """Plan codes in any spelling: "A0 B0 C0", "a0b0c0", "三个基本都要", "住院加强二档"."""
    text = normalize_text(text)
    found: list[str] = []
    if _TRIO.search(text):
        found += ["A0", "B0", "C0"]
    found += [f"{s.upper()}{n}" for s, n in _CODE.findall(text)]
    for series, names in _SERIES.items():
        level_words = r"(加强\s*[一二三123]档|[一二三123]档|基本)"
        for m in re.finditer(rf"(?:{names})\s*(?:保障)?\s*(?:的)?\s*{level_words}", text):
            for level, pattern in _LEVEL.items():
                if re.fullmatch(pattern, m.group(1)):
                    found.append(f"{series}{level}")
                    break
    return tuple(dict.fromkeys(found)) or None


# --- head counts -----------------------------------------------------------------------


@dataclass(frozen=True)
class HeadCount:
    zhibao: int | None
    non_zhibao: int | None


_WITH_SI = re.compile(
    rf"{_NUMBER}\s*(?:个|名|位)?(?:人)?\s*(?:是)?(?:有社保|职保|在职有社保|交社保|缴社保)"
)
_WITHOUT_SI = re.compile(
    rf"{_NUMBER}\s*(?:个|名|位)?(?:人)?\s*(?:是)?(?:没有社保|没社保|无社保|不是职保|非职保|没有交社保|没交社保)"
)
_SI_WORD_FIRST = re.compile(rf"(有社保|职保)的?(?:有|是)?\s*{_NUMBER}\s*(?:个|名|位)?人?")
_NO_SI_WORD_FIRST = re.compile(
    rf"(没有社保|没社保|无社保|非职保)的?(?:有|是)?\s*{_NUMBER}\s*(?:个|名|位)?人?"
)
_PEOPLE = re.compile(rf"{_NUMBER}\s*(?:个|名|位)?\s*(?:人|员工|职工|同事|个人)")
_ONLY_NUMBER = re.compile(rf"\s*{_NUMBER}\s*(?:个|名|位)?\s*(?:人)?\s*")


def extract_head_count(text: str, bare_number: bool = False) -> HeadCount | None:
    """ "8个人" -> 8 in 职保; "5个有社保的3个没有" -> 5 and 3. A bare "8" only when asked."""
    text = normalize_text(text)
    text = re.sub(r"(\d+)\s*个没有\b", r"\1个没有社保", text)
    text = re.sub(rf"({_NUMBER})\s*个没有(?!社保)", r"\1个没有社保", text)
    with_si = _first_int(_WITH_SI, text) or _first_int(_SI_WORD_FIRST, text, group=2)
    without = _first_int(_WITHOUT_SI, text) or _first_int(_NO_SI_WORD_FIRST, text, group=2)
    if with_si is not None or without is not None:
        return HeadCount(with_si if with_si is not None else 0, without or 0)
    total = _first_int(_PEOPLE, text)
    if total is None and bare_number and (m := _ONLY_NUMBER.fullmatch(text)):
        total = cn_int(m.group(1))
    return HeadCount(total, None) if total is not None else None


def _first_int(pattern: re.Pattern[str], text: str, group: int = 1) -> int | None:
    m = pattern.search(text)
    return cn_int(m.group(group)) if m else None


# --- dates -----------------------------------------------------------------------------

_FULL_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(rf"(?<![\d年])({_NUMBER})\s*月\s*(?:({_NUMBER})\s*[日号])?")
_YEAR_MONTH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?!\s*\d{1,2}\s*[日号])")
_RELATIVE_YEAR = {"今年": 0, "明年": 1, "后年": 2, "去年": -1}
_RELATIVE_MONTH = {"这个月": 0, "本月": 0, "下个月": 1, "下月": 1, "下下个月": 2}
_RELATIVE_DAY = {"今天": 0, "明天": 1, "后天": 2, "大后天": 3}
_DAY_OF = re.compile(rf"({_NUMBER})\s*[日号]")


def extract_date(text: str, today: dt.date) -> dt.date | None:
    """Dates as handlers type them, relative to ``today``: "2024年1月15日", "2024-1-15",
    "明年1月" (the 1st), "下个月1号", "7月15日" (this year, or next if already past), "明天"."""
    text = normalize_text(text)
    try:
        if m := _FULL_DATE.search(text):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _YEAR_MONTH.search(text):
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        for word, offset in _RELATIVE_DAY.items():
            if word in text:
                return today + dt.timedelta(days=offset)
        for word, offset in sorted(_RELATIVE_MONTH.items(), key=lambda kv: -len(kv[0])):
            if word in text:
                month_index = today.month - 1 + offset
                day_match = _DAY_OF.search(text.split(word, 1)[1])
                nth = cn_int(day_match.group(1)) if day_match else 1
                year = today.year + month_index // 12
                return dt.date(year, month_index % 12 + 1, nth or 1)
        for word, offset in _RELATIVE_YEAR.items():
            if word in text and (m := _MONTH_DAY.search(text.split(word, 1)[1])):
                month_of = cn_int(m.group(1))
                day_of = cn_int(m.group(3)) if m.group(3) else 1
                if month_of:
                    return dt.date(today.year + offset, month_of, day_of or 1)
        if m := _MONTH_DAY.search(text):
            month_of = cn_int(m.group(1))
            if not m.group(3) or not month_of:
                return None  # "7月" alone is too vague to guess a day
            day_of = cn_int(m.group(3)) or 1
            candidate = dt.date(today.year, month_of, day_of)
            if candidate >= today:
                return candidate
            return dt.date(today.year + 1, month_of, day_of)
    except ValueError:
        return None
    return None


def date_in_policy(day: dt.date, policy: PolicyYear) -> bool:
    return policy.coverage.start <= day <= policy.coverage.end


# --- yes / no --------------------------------------------------------------------------

_NO = re.compile(r"^(不是|不要|不用|没有|没|无|否|不|no|n|nope|还没有?|不需要|不对|忘了|忘记了?)")
_YES = re.compile(r"^(是的?|对|好的?|要|有的?|嗯+|可以|行|确认|yes|y|ok|okay|没问题|当然|已经?)")


def extract_day(text: str, today: dt.date) -> dt.date | None:
    """Like ``extract_date``, but a bare number ("15", "20230715") is refused with how to
    write a date, rather than read as nothing."""
    day = extract_date(text, today)
    if day is None and re.fullmatch(r"\s*\d+(\.\d+)?\s*", normalize_text(text)):
        raise Invalid(say("not_a_date", value=text.strip()))
    return day


def extract_day_within(
    text: str, today: dt.date, check: Callable[[dt.date], object]
) -> str | None:
    """``extract_day`` as an ISO date, refused with the rules' reason when ``check`` (e.g.
    ``coverage_period``) says the policy data does not cover it."""
    day = extract_day(text, today)
    if day is None:
        return None
    try:
        check(day)
    except NoPolicyData as exc:
        raise Invalid(exc.message) from None
    return day.isoformat()


def extract_choice(text: str, no: str, yes: str) -> bool | None:
    """Yes or no from the answer's own words first (``no`` and ``yes`` patterns, the
    negative tried first since "没有X" contains "有X"), then from a plain 是/不是."""
    text = normalize_text(text)
    if re.search(no, text):
        return False
    if re.search(yes, text):
        return True
    return extract_yes_no(text)


def extract_yes_no(text: str) -> bool | None:
    text = normalize_text(text).lower().strip("。.!！~ ")
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None
