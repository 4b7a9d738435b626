"""Row checks: each row of a unit's roster as the platform will judge it.

Rows arrive already read (``sheets.roster_file`` reads the workbooks); everything here is
pure. Every finding carries the Excel row number, the column's header as the unit wrote
it, a stable code and a sentence of the catalog (``rules.row.*``, ``rules.id.*``) that
says how to fix the cell; ID numbers in it are always masked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence

from rules.fmt import cn_date
from rules.ids import (
    EARLIEST_BIRTH,
    DocType,
    IdInfo,
    IdProblem,
    Sex,
    age_on,
    doc_type_from_label,
    mask_id,
    normalize_id,
    parse_id,
)
from rules.people import Category, age_limit, categorize
from rules.policy import PolicyYear
from rules.roster.cells import (
    echo,
    looks_numeric_id,
    parse_birth_date,
    parse_sex,
    parse_social_insurance,
)
from rules.roster.model import (
    REQUIRED_FIELDS,
    TEMPLATE_FIELDS,
    Code,
    Person,
    RosterCheck,
    RosterField,
    RosterRow,
    RowFinding,
    Severity,
)
from rules.sentence import Sentence

_PHONE_NOISE = re.compile(r"[\s\-()]+")
_FREE_FORMAT = re.compile(r"[A-Z0-9()\-]+")
_RESIDENT_ID_SHAPE = re.compile(r"\d{17}[\dX]")


def _row(key: str, **values: object) -> Sentence:
    return Sentence.of(f"rules.row.{key}", **values)


class _RowChecker:
    """Checks one row at a time; remembers ID numbers seen to find duplicates."""

    def __init__(
        self, policy: PolicyYear, start: dt.date, headers: Mapping[RosterField, str]
    ) -> None:
        self.policy = policy
        self.start = start
        self.headers = headers
        self.first_row_of: dict[str, int] = {}
        self.findings: list[RowFinding] = []
        self.people: list[Person] = []
        self.categories: Counter[Category] = Counter()
        self.undetermined = 0

    def column(self, name: RosterField) -> str:
        return self.headers.get(name) or name.value

    def add(
        self,
        row: RosterRow,
        name: RosterField,
        code: Code,
        sentence: Sentence,
        suggestion: str | None = None,
    ) -> None:
        self.findings.append(
            RowFinding(row.row, self.column(name), name, code, sentence, suggestion)
        )

    def check(self, row: RosterRow) -> None:
        before = len(self.findings)
        for name in sorted(row.cleaned, key=TEMPLATE_FIELDS.index):
            self.add(
                row,
                name,
                Code.CONTROL_CHARS,
                _row("control_chars", column=self.column(name)),
            )
        for required in sorted(REQUIRED_FIELDS, key=TEMPLATE_FIELDS.index):
            if not row.cell(required).strip():
                self.add(
                    row,
                    required,
                    Code.MISSING_REQUIRED,
                    _row(
                        "missing_required",
                        column=self.column(required),
                        what=Sentence(f"rules.row.required.{required.name.lower()}"),
                    ),
                )
        doc_type = self.doc_type(row)
        number, info = self.id_number(row, doc_type)
        sex, birth = self.sex_and_birth(row, doc_type, info)
        has_si = self.social_insurance(row)
        category: Category | None = None
        if sex is not None and birth is not None and has_si is not None:
            category = self.category(row, doc_type, sex, birth, has_si)
            self.categories[category] += 1
        else:
            self.undetermined += 1
        errors = any(f.severity is Severity.ERROR for f in self.findings[before:])
        if (
            not errors
            and doc_type is not None
            and number is not None
            and sex is not None
            and birth is not None
            and has_si is not None
            and category is not None
        ):
            self.people.append(
                Person(
                    row=row.row,
                    name=" ".join(row.cell(RosterField.NAME).split()),
                    doc_type=doc_type,
                    number=number,
                    sex=sex,
                    birth_date=birth,
                    phone=_PHONE_NOISE.sub(
                        "", unicodedata.normalize("NFKC", row.cell(RosterField.PHONE))
                    ),
                    has_social_insurance=has_si,
                    category=category,
                )
            )

    def doc_type(self, row: RosterRow) -> DocType | None:
        label = row.cell(RosterField.DOC_TYPE)
        if not label.strip():
            return None
        doc_type = doc_type_from_label(label)
        if doc_type is None:
            choices = tuple(d.value for d in DocType)
            self.add(
                row,
                RosterField.DOC_TYPE,
                Code.BAD_DOC_TYPE,
                _row("bad_doc_type", value=echo(label), choices=choices),
            )
        return doc_type

    def id_number(
        self, row: RosterRow, doc_type: DocType | None
    ) -> tuple[str | None, IdInfo | None]:
        raw = row.cell(RosterField.ID_NUMBER)
        if not raw.strip():
            return None, None
        if RosterField.ID_NUMBER in row.numeric or looks_numeric_id(raw):
            # Never guess the lost digits: a "repaired" number would enroll someone else.
            self.add(row, RosterField.ID_NUMBER, Code.NUMERIC_ID, _row("numeric_id"))
            return None, None
        number = normalize_id(raw)
        first = self.first_row_of.setdefault(number, row.row)
        if first != row.row:
            self.add(
                row,
                RosterField.ID_NUMBER,
                Code.DUPLICATE_ID,
                _row("duplicate_id", masked=mask_id(number), first=first),
            )
        if doc_type is None:
            return number, None
        if doc_type.structured:
            result = parse_id(number, doc_type, self.start)
            if isinstance(result, IdProblem):
                code = Code(result.code)
                # The upgraded number is shown masked nowhere: a masked number is of no use
                # to the handler, who finds it in full in the annotated workbook.
                sentence = _row("id_old_15") if code is Code.ID_OLD_15 else result.sentence
                self.add(
                    row,
                    RosterField.ID_NUMBER,
                    code,
                    sentence,
                    suggestion=result.upgraded,
                )
                return number, None
            return number, result
        if _RESIDENT_ID_SHAPE.fullmatch(number) and isinstance(
            parse_id(number, DocType.RESIDENT_ID, self.start), IdInfo
        ):
            self.add(
                row,
                RosterField.DOC_TYPE,
                Code.BAD_DOC_TYPE,
                _row("doc_type_is_resident_id", doc_type=doc_type.value, masked=mask_id(number)),
            )
        elif not _FREE_FORMAT.fullmatch(number):
            self.add(
                row,
                RosterField.ID_NUMBER,
                Code.ID_FORMAT,
                _row("free_format_chars", doc_type=doc_type.value),
            )
        return number, None

    def birth_from_column(self, row: RosterRow) -> tuple[str, dt.date | None]:
        """The birth date column: its text and the date, adding bad_birthdate if unreadable."""
        text = row.cell(RosterField.BIRTH_DATE).strip()
        if not text:
            return text, None
        birth = parse_birth_date(text, numeric=RosterField.BIRTH_DATE in row.numeric)
        if birth is None:
            self.add(
                row,
                RosterField.BIRTH_DATE,
                Code.BAD_BIRTHDATE,
                _row("birth_unreadable", value=echo(text)),
            )
        elif not EARLIEST_BIRTH <= birth <= self.start:
            self.add(
                row,
                RosterField.BIRTH_DATE,
                Code.BAD_BIRTHDATE,
                _row(
                    "birth_out_of_range",
                    value=cn_date(birth),
                    earliest=EARLIEST_BIRTH.year,
                    start=cn_date(self.start),
                ),
            )
            birth = None
        return text, birth

    def sex_and_birth(
        self, row: RosterRow, doc_type: DocType | None, info: IdInfo | None
    ) -> tuple[Sex | None, dt.date | None]:
        sex_text = row.cell(RosterField.SEX).strip()
        sex = parse_sex(sex_text) if sex_text else None
        birth_text, birth = self.birth_from_column(row)
        # The handbook: every document but the resident ID card (passports, travel passes
        # and the HK/Macau/Taiwan residence permits alike) needs sex and birth date filled.
        columns_required = doc_type is not None and doc_type is not DocType.RESIDENT_ID
        if columns_required and doc_type is not None:
            if sex is None:
                key = "sex_unreadable" if sex_text else "sex_required"
                self.add(
                    row,
                    RosterField.SEX,
                    Code.BIRTH_GENDER_REQUIRED,
                    _row(key, doc_type=doc_type.value, value=echo(sex_text)),
                )
            if not birth_text:
                self.add(
                    row,
                    RosterField.BIRTH_DATE,
                    Code.BIRTH_GENDER_REQUIRED,
                    _row("birth_required", doc_type=doc_type.value),
                )
        if info is None:
            return (sex, birth) if columns_required else (None, None)
        # A valid structured number is authoritative; the columns must agree with it.
        if sex_text and sex is None and not columns_required:
            self.add(
                row,
                RosterField.SEX,
                Code.GENDER_MISMATCH,
                _row("sex_unreadable_with_id", value=echo(sex_text)),
            )
        elif sex is not None and sex is not info.sex:
            self.add(
                row,
                RosterField.SEX,
                Code.GENDER_MISMATCH,
                _row(
                    "sex_disagrees",
                    value=sex.value,
                    masked=mask_id(info.number),
                    sex=info.sex.value,
                ),
            )
        if birth is not None and birth != info.birth_date:
            self.add(
                row,
                RosterField.BIRTH_DATE,
                Code.BIRTH_MISMATCH,
                _row(
                    "birth_disagrees",
                    value=cn_date(birth),
                    masked=mask_id(info.number),
                    birth=cn_date(info.birth_date),
                ),
            )
        return info.sex, info.birth_date

    def social_insurance(self, row: RosterRow) -> bool | None:
        text = row.cell(RosterField.SOCIAL_INSURANCE).strip()
        if not text:
            return None
        answer = parse_social_insurance(text)
        if answer is None:
            self.add(
                row,
                RosterField.SOCIAL_INSURANCE,
                Code.BAD_SI_FLAG,
                _row("bad_si_flag", value=echo(text)),
            )
        return answer

    def category(
        self, row: RosterRow, doc_type: DocType | None, sex: Sex, birth: dt.date, has_si: bool
    ) -> Category:
        category = categorize(
            has_social_insurance=has_si, sex=sex, birth=birth, start=self.start, policy=self.policy
        )
        # Age comes from the ID number when there is one, else from the birth date column.
        source = (
            RosterField.ID_NUMBER
            if doc_type is not None and doc_type.structured
            else RosterField.BIRTH_DATE
        )
        facts = {
            "start": cn_date(self.start),
            "age": age_on(birth, self.start),
            "sex": sex.value,
            "limit": age_limit(sex, self.policy),
            "female": self.policy.age_limits.female,
            "male": self.policy.age_limits.male,
        }
        if category is Category.OVER_AGE:
            self.add(row, source, Code.OVER_AGE, _row("over_age", **facts))
        elif category is Category.INELIGIBLE:
            self.add(row, source, Code.INELIGIBLE, _row("ineligible", **facts))
        return category


def check_rows(
    rows: Sequence[RosterRow],
    *,
    policy: PolicyYear,
    start: dt.date,
    headers: Mapping[RosterField, str] | None = None,
) -> RosterCheck:
    """Check every row as the platform will, ages taken on the coverage start ``start``.

    ``headers`` are the column headers as the unit's file writes them (findings name the
    column the unit sees); the template's names are used for columns the file lacks.
    Blank rows are skipped. Findings come by row, then by column.
    """
    checker = _RowChecker(policy, start, headers or {})
    data = [r for r in rows if not r.is_blank]
    for row in data:
        checker.check(row)
    return RosterCheck(
        rows=len(data),
        # Row order, then the template's column order within a row, as the unit reads it.
        findings=tuple(
            sorted(checker.findings, key=lambda f: (f.row, TEMPLATE_FIELDS.index(f.field)))
        ),
        people=tuple(checker.people),
        categories=dict(checker.categories),
        undetermined=checker.undetermined,
    )
