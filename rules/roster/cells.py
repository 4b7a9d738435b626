"""Reading roster cells as handlers fill them in: sex, the social-insurance answer, birth
dates (typed every which way, or Excel serial numbers) and ID numbers Excel turned into
numbers; and a cell's value as it may be echoed back in a message (masked, shortened).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from rules.ids import Sex
from rules.privacy import mask_personal_data

_SEX_WORDS: dict[str, Sex] = {
    "男": Sex.MALE,
    "男性": Sex.MALE,
    "M": Sex.MALE,
    "MALE": Sex.MALE,
    "女": Sex.FEMALE,
    "女性": Sex.FEMALE,
    "F": Sex.FEMALE,
    "FEMALE": Sex.FEMALE,
}

# What handlers write in 是否有社保. 在职 is the platform's own word for a 职保 employee.
_SI_WORDS: dict[str, bool] = {
    **dict.fromkeys(["是", "有", "有社保", "在职", "Y", "YES", "1", "√", "✓", "✔", "TRUE"], True),
    **dict.fromkeys(["否", "无", "没有", "无社保", "N", "NO", "0", "×", "✗", "✘", "FALSE"], False),
}

_BLANKS = re.compile(r"[\s\u200b\ufeff]+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?E[+-]?\d+")
_DATE_PARTS = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
# Excel's 1900 date system counts 1900-02-29, which never existed: serials from 61 on are
# days since 1899-12-30, earlier ones days since 1899-12-31.
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _key(text: str) -> str:
    """The text as a word lookup sees it: half-width, upper case, no blanks."""
    return _BLANKS.sub("", unicodedata.normalize("NFKC", text)).upper()


def echo(text: str, limit: int = 20) -> str:
    """A cell value quoted back to the user: personal numbers masked, long text cut."""
    shown = mask_personal_data(text.strip())
    return shown if len(shown) <= limit else shown[:limit] + "…"


def parse_sex(text: str) -> Sex | None:
    """男/女 and the usual variants; None if the text is none of them."""
    return _SEX_WORDS.get(_key(text))


def parse_social_insurance(text: str) -> bool | None:
    """是/否, 有/无, Y/N and the like; None if the text is none of them."""
    return _SI_WORDS.get(_key(text))


def parse_birth_date(text: str, *, numeric: bool = False) -> dt.date | None:
    """A date as handlers type it (1990-01-01, 1990/1/1, 19900101, 1990年1月1日), or an
    Excel serial number when the cell was stored as a number. None if unreadable."""
    value = unicodedata.normalize("NFKC", text).strip()
    match = _DATE_PARTS.fullmatch(value) or _DATE_COMPACT.fullmatch(value)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if numeric and _SERIAL.fullmatch(value):
        serial = int(float(value))
        if serial == 60 or serial < 1:
            return None  # 1900-02-29 does not exist
        base = _EXCEL_EPOCH if serial > 60 else _EXCEL_EPOCH + dt.timedelta(days=1)
        try:
            return base + dt.timedelta(days=serial)
        except OverflowError:
            return None
    return None


def looks_numeric_id(text: str) -> bool:
    """An ID cell that shows Excel's scientific notation (3.10101E+17): digits are lost."""
    return bool(_SCIENTIFIC.fullmatch(_key(text)))
