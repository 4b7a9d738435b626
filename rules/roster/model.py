"""The roster's shapes: the platform template's columns, the rows as read, the findings
on them (a stable code, the column, and a sentence of the catalog saying how to fix the
cell) and the outcome of checking a whole roster.

Findings keep codes and values; ``RowFinding.message`` renders the sentence from the text
catalog. Values echoed from a cell are masked before they go in, so a message can go to
chat, logs and terminals.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rules.ids import DocType, Sex
from rules.people import Category
from rules.platform import template
from rules.sentence import Sentence

_HEADERS = template().columns


class RosterField(StrEnum):
    """A column of the platform's import template; the value is its header without ``*``."""

    SEQ = _HEADERS["SEQ"]
    NAME = _HEADERS["NAME"]
    DOC_TYPE = _HEADERS["DOC_TYPE"]
    ID_NUMBER = _HEADERS["ID_NUMBER"]
    SEX = _HEADERS["SEX"]
    BIRTH_DATE = _HEADERS["BIRTH_DATE"]
    PHONE = _HEADERS["PHONE"]
    SOCIAL_INSURANCE = _HEADERS["SOCIAL_INSURANCE"]

    @property
    def required(self) -> bool:
        """Marked ``*`` in the template: the platform refuses a row without it."""
        return self in REQUIRED_FIELDS

    @property
    def template_header(self) -> str:
        """The header as the platform's template writes it: required columns end in ``*``."""
        return f"{self.value}*" if self.required else self.value


# The template's column order; the social-insurance column is last, as on the platform.
TEMPLATE_FIELDS: tuple[RosterField, ...] = tuple(RosterField)
REQUIRED_FIELDS = frozenset(
    {
        RosterField.NAME,
        RosterField.DOC_TYPE,
        RosterField.ID_NUMBER,
        RosterField.SOCIAL_INSURANCE,
    }
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Stable finding codes; programs and tests match on these, never on the messages."""

    MISSING_REQUIRED = "missing_required"
    BAD_DOC_TYPE = "bad_doc_type"
    ID_FORMAT = "id_format"
    ID_OLD_15 = "id_old_15"
    ID_CHECKSUM = "id_checksum"
    ID_BIRTHDATE = "id_birthdate"
    NUMERIC_ID = "numeric_id"
    DUPLICATE_ID = "duplicate_id"
    BIRTH_GENDER_REQUIRED = "birth_gender_required"
    BAD_BIRTHDATE = "bad_birthdate"
    GENDER_MISMATCH = "gender_mismatch"
    BIRTH_MISMATCH = "birth_mismatch"
    BAD_SI_FLAG = "bad_si_flag"
    OVER_AGE = "over_age"
    INELIGIBLE = "ineligible"
    CONTROL_CHARS = "control_chars"

    @property
    def severity(self) -> Severity:
        # Two warnings. over_age: the platform lets the unit keep an over-age 职保 employee
        # by ticking 社保尚在缴金 at validation, a confirmation rather than a fix to the
        # file. control_chars: invisible characters were removed when the file was read,
        # so the row is checked (and goes to the clean file) without them; the unit only
        # needs to know. Every other finding either makes the import fail or would enroll
        # the wrong person (a sex or birth date that disagrees with a valid ID number is
        # most often a row shifted while pasting), so it must be fixed before upload.
        return Severity.WARNING if self in _WARNINGS else Severity.ERROR

    @property
    def label(self) -> str:
        """A few words for summaries and counts."""
        return Sentence(f"rules.code.{self}").text


_WARNINGS = frozenset({Code.OVER_AGE, Code.CONTROL_CHARS})


@dataclass(frozen=True)
class RosterRow:
    """One data row as read from the file: raw cell text per template field.

    ``numeric`` names the cells the spreadsheet stored as numbers; for an ID number that
    means Excel has already dropped digits. ``cleaned`` names the cells that had invisible
    control characters, removed from ``cells`` when the file was read.
    """

    row: int
    cells: Mapping[RosterField, str]
    numeric: frozenset[RosterField] = frozenset()
    cleaned: frozenset[RosterField] = frozenset()

    def cell(self, name: RosterField) -> str:
        """The raw text of a field; "" when blank or when the file has no such column."""
        return self.cells.get(name, "")

    @property
    def is_blank(self) -> bool:
        """Nothing but perhaps a pre-filled 序号: handlers' templates are often numbered."""
        return all(not v.strip() for k, v in self.cells.items() if k is not RosterField.SEQ)


@dataclass(frozen=True)
class RowFinding:
    """A problem in one cell. ``suggestion`` holds a corrected value in full (an upgraded
    15-digit number): it goes only into the unit's own annotated workbook, never a message."""

    row: int
    column: str
    field: RosterField
    code: Code
    sentence: Sentence
    suggestion: str | None = None

    @property
    def message(self) -> str:
        """How to fix the cell, as the unit reads it."""
        return self.sentence.text

    @property
    def severity(self) -> Severity:
        """Error (fix before upload) or warning (confirm on the platform)."""
        return self.code.severity

    def as_json(self) -> dict[str, object]:
        """``{"row", "column", "code", "message"}``: no suggestion, nothing unmasked."""
        return {
            "row": self.row,
            "column": self.column,
            "code": str(self.code),
            "message": self.message,
        }


@dataclass(frozen=True)
class Person:
    """A row with no errors, normalized as the platform's template wants it."""

    row: int
    name: str
    doc_type: DocType
    number: str
    sex: Sex
    birth_date: dt.date
    phone: str
    has_social_insurance: bool
    category: Category


@dataclass(frozen=True)
class RosterCheck:
    """The outcome of checking every row of one roster."""

    rows: int
    findings: tuple[RowFinding, ...]
    people: tuple[Person, ...]
    categories: Mapping[Category, int]
    undetermined: int
    """Rows whose category cannot be told (no valid birth date, sex or 社保 answer)."""

    @property
    def errors(self) -> tuple[RowFinding, ...]:
        """Findings that keep a row out of the platform."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[RowFinding, ...]:
        """Findings the unit settles by a confirmation on the platform."""
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def counts_by_code(self) -> dict[Code, int]:
        """How many findings of each code, most frequent first."""
        return dict(Counter(f.code for f in self.findings).most_common())

    @property
    def rows_with_errors(self) -> int:
        """How many rows have at least one error."""
        return len({f.row for f in self.errors})

    @property
    def people_categories(self) -> dict[Category, int]:
        """The people (rows without errors) per category: they add up to ``len(people)``,
        and with ``rows_with_errors`` to ``rows``. ``categories`` also counts rows with
        errors whose category could be told."""
        counts = Counter(p.category for p in self.people)
        return {c: counts[c] for c in Category if counts[c]}

    def people_json(self) -> dict[str, int]:
        """People per category, rows whose category cannot be told, and all data rows."""
        out = {str(c): self.categories.get(c, 0) for c in Category}
        out["undetermined"] = self.undetermined
        out["total"] = self.rows
        return out
