"""The words every parser shares: the text as parsers read it (half-width, typos fixed),
numbers in digits or Chinese, what makes a message a question, the words that mark a
correction of an earlier answer, and yes or no in their common forms. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata

from faq.normalize import fix_typos

PLAN_CODE = r"[ABCabc]\s*[0-3]"
"""A plan code as typed ("A0", "a 0")."""
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "仨": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUMBER = r"[零〇一二两俩三仨四五六七八九十百千]+"
NUMBER = rf"(\d+|{_CN_NUMBER})"


QUESTION = re.compile(
    r"[?？]|怎么|如何|什么|为什么|为啥|啥|咋|哪|吗|呢|多少|多久|能否|能不能|可不可以|是否"
    r"|几月|几号|几天|几点|几个工作日|几时|是不是|有没有|对不对|行不行|好不好|要不要"
)
"""Words that make a message a question rather than an answer to the one asked."""

RULE_QUESTION = re.compile(
    r"吗[?？!！。\s]*$|能不能|可不可以|是不是|是否|能否|行不行|有没有|可以吗"
)
"""A question about the rules ("没社保的能买A1吗"), which a typed answer never is."""


_NUMERAL_RUN = re.compile(r"[0-9零〇一二三四五六七八九十百千万两]{20,}")
"""Longer than any ID or phone number: no slot's value. Such runs are cut before parsing
(the count and date patterns would scan them in time growing with the square)."""


def normalize_text(text: str) -> str:
    """Half-width, with the program's words where an input method gave homophones."""
    text = _NUMERAL_RUN.sub("…", unicodedata.normalize("NFKC", text))
    return fix_typos(text).strip()


def cn_int(token: str) -> int | None:
    """ "8" -> 8, "十二" -> 12, "两百零五" -> 205, "三十" -> 30; None if not a number."""
    if token.isdecimal() and token.isascii():
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


# --- corrections -----------------------------------------------------------------------

CORRECTION = re.compile(
    r"不对|错了|说错|搞错|写错|打错|弄错|输错|更正|纠正|改成|改为|改到|换成|换为|修改|改一下"
    r"|重新选|重选|改选|不是.+是"
)
"""Words that say the message changes an earlier answer rather than answering anew."""

_LEADING_CORRECTION = re.compile(
    r"^\s*(?:不对|不是|错了|说错了?|搞错了?|写错了?|打错了?|弄错了?|输错了?|更正|纠正)"
    r"[\s,，.。!！、:：]*(?:应该)?(?:是)?"
)


def retracts(text: str) -> bool:
    """ "不对，…", "说错了，…": the message takes back the answer just given."""
    return bool(_LEADING_CORRECTION.match(normalize_text(text))) and not re.match(
        r"^\s*不是的?\s*$", normalize_text(text)
    )


_NOT_BUT = re.compile(r"^(?P<head>.*?)不是(?P<old>.+?)[,，、\s]*(?:而|应该)?是(?P<new>.+)$")
_BUT_NOT = re.compile(r"^(?:是)?(?P<new>.+?)[,，、\s]+(?:而)?不是(?P<old>.+)$")


def strip_correction(text: str) -> str:
    """ "不对，是10个人" -> "10个人", "不是8个是9个" -> "9个": the new value without the
    words that mark a fix (nor the old value it replaces)."""
    text = normalize_text(text)
    if m := _NOT_BUT.match(text):  # "人数不是5 是15": the slot's name stays with the value
        return (m.group("head") + m.group("new")).strip()
    if m := _BUT_NOT.match(text):
        return m.group("new").strip()
    return _LEADING_CORRECTION.sub("", text, count=1).strip()


# --- yes / no --------------------------------------------------------------------------

_NO = re.compile(
    r"^(不是|不要|不用|不需要|不对|不行|不可以|不能|不好|不同意|没有|没|无|否|不|no|n|nope|"
    r"还没有?|忘了|忘记了?|错了?)"
)
_YES = re.compile(
    r"^(是的?|是滴|对的?|对滴|对呀|对啊|好的?|好滴|好嘞|要|有的?|嗯+|恩+|en|可以|行|成|中|确认|确定|同意|"
    r"yes|y|ok|okay|没问题|没错|当然|已经?|go|继续|下一步|是啊|正确)"
)


_FINE = re.compile(
    r"没问题|没啥问题|没什么问题|没毛病|没错|不错|下一步|^继续|可以了|好了$|^就这样|往下走|继续走|接着走"
)
_NOT_FINE = re.compile(r"有问题|不对|不行|不可以|不好")


def extract_yes_no(text: str) -> bool | None:
    """Yes or no in all common forms: 对 / 好的 / 行 / 可以 / 嗯 / 没问题 / 是的 / 有, and
    不对 / 不行 / 不是 / 没有 / 不要 / 忘了."""
    text = normalize_text(text).lower().strip("。.!！~～ ,，")
    text = re.sub(r"^(嗯+|恩+|哦+|噢|额+|呃+)[,，。\s]*(?=\S{2})", "", text)
    if _FINE.search(text) and not _NOT_FINE.search(text):
        return True
    if _NO.match(text):
        return False
    if _YES.match(text):
        return True
    return None


def extract_choice(text: str, no: str, yes: str) -> bool | None:
    """Yes or no from the answer's own words first (``no`` and ``yes`` patterns, the
    negative tried first since "没有X" contains "有X"), then from a plain 是/不是."""
    text = normalize_text(text)
    if re.search(no, text):
        return False
    if re.search(yes, text):
        return True
    return extract_yes_no(text)
