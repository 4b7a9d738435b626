"""Identity documents: resident IDs, residence permits, foreign permanent resident IDs.

The 18-character numbers share one structure (GB 11643-1999): 6 region/issuer digits,
an 8-digit birth date, a 3-digit sequence whose last digit gives the sex (odd = male), and
an ISO 7064 MOD 11-2 check character. Region codes are not checked against a district
table: new district codes appear on numbers of people born before the district existed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from rules.platform import template
from rules.sentence import Sentence

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"\d{17}[\dX]")
_ID15 = re.compile(r"\d{15}")
EARLIEST_BIRTH = dt.date(1900, 1, 1)
"""A birth date before this one, in an ID number or a birth date column, is a mistake."""
_SPACES = re.compile(r"[\s\u200b\ufeff'\"‘’“”]+")


class Sex(StrEnum):
    MALE = "男"
    FEMALE = "女"


_NAMES = template().doc_types


class DocType(StrEnum):
    """The platform's document types; the values are its dropdown's labels."""

    RESIDENT_ID = _NAMES["RESIDENT_ID"].label
    HK_MACAU_PERMIT = _NAMES["HK_MACAU_PERMIT"].label
    TAIWAN_PERMIT = _NAMES["TAIWAN_PERMIT"].label
    FOREIGN_PR_ID = _NAMES["FOREIGN_PR_ID"].label
    PASSPORT = _NAMES["PASSPORT"].label
    HK_MACAU_PASS = _NAMES["HK_MACAU_PASS"].label
    TAIWAN_PASS = _NAMES["TAIWAN_PASS"].label
    OTHER = _NAMES["OTHER"].label

    @property
    def structured(self) -> bool:
        """Numbers of this type carry birth date, sex and a check character."""
        return self in _STRUCTURED_PREFIX


# Leading characters a structured number of each type must have (None: any but these).
_STRUCTURED_PREFIX: dict[DocType, tuple[str, ...] | None] = {
    DocType.RESIDENT_ID: None,
    DocType.HK_MACAU_PERMIT: ("810000", "820000"),
    DocType.TAIWAN_PERMIT: ("830000",),
    DocType.FOREIGN_PR_ID: ("9",),
}

# Every name a roster cell may give a document type: its label and the other names.
_DOC_TYPE_ALIASES = {
    name: doc_type
    for doc_type in DocType
    for name in (doc_type.value, *_NAMES[doc_type.name].aliases)
}


def doc_type_from_label(label: str) -> DocType | None:
    """The document type a roster cell names, or None if it names none we know."""
    key = _SPACES.sub("", unicodedata.normalize("NFKC", label))
    return _DOC_TYPE_ALIASES.get(key)


@dataclass(frozen=True)
class IdInfo:
    """A valid structured ID number and what it says about its holder."""

    number: str
    doc_type: DocType
    birth_date: dt.date
    sex: Sex


@dataclass(frozen=True)
class IdProblem:
    """Why a number is not a valid ID. ``upgraded`` offers the 18-digit form of an old one."""

    code: str
    sentence: Sentence
    upgraded: str | None = None

    @property
    def message(self) -> str:
        """Why, as the user reads it."""
        return self.sentence.text


def normalize_id(raw: str) -> str:
    """Full-width to half-width, spaces and quotes dropped, lowercase x made upper."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()


def mask_id(number: str) -> str:
    """Personal data shown in chat: 310101199001010252 -> 3101**********0252."""
    if len(number) <= 8:
        return number[:1] + "*" * max(len(number) - 2, 1) + number[-1:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def upgrade_15(number: str) -> str:
    """The 18-digit form of a 15-digit first-generation number (born in the 1900s)."""
    first17 = number[:6] + "19" + number[6:]
    return first17 + check_char(first17)


def birth_date_of(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def parse_id(raw: str, doc_type: DocType, today: dt.date) -> IdInfo | IdProblem:
    """Validate a structured ID number of ``doc_type`` as of ``today``."""
    number = normalize_id(raw)
    if not doc_type.structured:
        raise ValueError(f"{doc_type} numbers have no fixed structure")
    if _ID15.fullmatch(number) and doc_type is DocType.RESIDENT_ID:
        upgraded = upgrade_15(number)
        return IdProblem(
            "id_old_15", Sentence.of("rules.id.old_15", masked=mask_id(upgraded)), upgraded
        )
    if not _ID18.fullmatch(number):
        other_chars = not re.fullmatch(r"[\dX]*", number)
        return IdProblem(
            "id_format",
            Sentence.of(
                "rules.id.length", doc_type=doc_type.value, length=len(number), other=other_chars
            ),
        )
    prefixes = _STRUCTURED_PREFIX[doc_type]
    if prefixes is not None and not number.startswith(prefixes):
        return IdProblem(
            "id_format", Sentence.of("rules.id.prefix", doc_type=doc_type.value, prefixes=prefixes)
        )
    if doc_type is DocType.RESIDENT_ID and number.startswith(("81", "82", "83", "9")):
        return IdProblem("id_format", Sentence.of("rules.id.permit_number"))
    expected = check_char(number[:17])
    if number[17] != expected:
        return IdProblem("id_checksum", Sentence.of("rules.id.checksum"))
    birth = birth_date_of(number)
    if birth is None or birth > today or birth.year < EARLIEST_BIRTH.year:
        return IdProblem("id_birthdate", Sentence.of("rules.id.birthdate", digits=number[6:14]))
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdInfo(number=number, doc_type=doc_type, birth_date=birth, sex=sex)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on ``day``; the birthday itself counts as the next year of age.

    A 29 February birthday is reached on 1 March in common years.
    """
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years
