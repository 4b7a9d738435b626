"""Roster checks: each row of a unit's roster as the platform will judge it, and the
unit-level checks (change against last year, the social-insurance ratio, attachments).

Rows arrive already read (``sheets.roster_file`` reads the workbooks); everything here is
pure. Every finding carries the Excel row number, the column's header as the unit wrote
it, a stable code and a short Chinese message that says how to fix the cell. Messages go
to chat, logs and terminals, so ID numbers in them are always masked.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rules.fmt import cn_date, percent
from rules.ids import (
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
from rules.privacy import mask_personal_data


class RosterField(StrEnum):
    """A column of the platform's import template; the value is its header without ``*``."""

    SEQ = "序号"
    NAME = "姓名"
    DOC_TYPE = "证件类型"
    ID_NUMBER = "证件号码"
    SEX = "性别"
    BIRTH_DATE = "出生日期"
    PHONE = "手机号码"
    SOCIAL_INSURANCE = "是否有社保"

    @property
    def required(self) -> bool:
        """Marked ``*`` in the template: the platform refuses a row without it."""
        return self in REQUIRED_FIELDS

    @property
    def template_header(self) -> str:
        """The header as the platform's template writes it: required columns end in ``*``."""
        return f"{self.value}*" if self.required else self.value


# The template's column order; 是否有社保 is last, as on the platform.
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
        return _TITLES[self]


_WARNINGS = frozenset({Code.OVER_AGE, Code.CONTROL_CHARS})

_TITLES: dict[Code, str] = {
    Code.MISSING_REQUIRED: "必填项为空",
    Code.BAD_DOC_TYPE: "证件类型不对",
    Code.ID_FORMAT: "证件号码格式不对",
    Code.ID_OLD_15: "15位老身份证号",
    Code.ID_CHECKSUM: "证件号码校验位不对",
    Code.ID_BIRTHDATE: "证件号码里的出生日期无效",
    Code.NUMERIC_ID: "证件号码被存成了数字",
    Code.DUPLICATE_ID: "证件号码重复",
    Code.BIRTH_GENDER_REQUIRED: "非身份证人员缺性别或出生日期",
    Code.BAD_BIRTHDATE: "出生日期无效",
    Code.GENDER_MISMATCH: "性别看不懂或与证件号码不符",
    Code.BIRTH_MISMATCH: "出生日期与证件号码不符",
    Code.BAD_SI_FLAG: "是否有社保填写不对",
    Code.OVER_AGE: "职保超龄（需移除或确认）",
    Code.INELIGIBLE: "不能参保（无社保且超龄）",
    Code.CONTROL_CHARS: "含看不见的控制字符（已删除）",
}

# Every message a row can get, in one place. Values echoed from the file are masked and
# shortened before they go in.
_TEXT: dict[str, str] = {
    "missing_required": "“{column}”是必填项，这一格是空的。请补上{what}。",
    "bad_doc_type": "证件类型“{value}”不是平台的选项。请从下拉列表选择：{choices}。",
    "doc_type_is_resident_id": (
        "证件类型填的是“{doc_type}”，但号码是有效的居民身份证号（{masked}）。"
        "请把证件类型改为“居民身份证”。"
    ),
    "free_format_chars": (
        "{doc_type}号码只能由字母和数字组成，现在含有其他字符。请对照证件重新填写。"
    ),
    "id_old_15": (
        "这是15位的老身份证号，平台需要18位号码。换算好的18位号码写在标注文件（检查结果）"
        "的“问题说明”列里，请与本人身份证核对后改成18位。"
    ),
    "numeric_id": (
        "证件号码被Excel存成了数字：超过15位的号码后几位会变成0，无法恢复。"
        "请把这一列设置为“文本”格式，再对照证件重新输入完整号码。"
    ),
    "duplicate_id": "证件号码（{masked}）与第{first}行重复，同一人只能参保一次。请删除重复的行。",
    "sex_required": "证件类型是“{doc_type}”，性别必须填写（男或女）。",
    "sex_unreadable": "证件类型是“{doc_type}”，性别必须填写，“{value}”看不懂。请填“男”或“女”。",
    "birth_required": "证件类型是“{doc_type}”，出生日期必须填写，请写成 1990-01-01 这样的格式。",
    "birth_unreadable": "出生日期“{value}”看不懂。请写成 1990-01-01 这样的格式。",
    "birth_out_of_range": (
        "出生日期{value}不可能（早于1900年或晚于起保日{start}）。请对照证件核对。"
    ),
    "sex_disagrees": (
        "性别填的是“{value}”，但证件号码（{masked}）表示{sex}性。"
        "请核对是号码还是性别填错了（常见于整行错位）。"
    ),
    "sex_unreadable_with_id": (
        "性别“{value}”看不懂，请填“男”或“女”，或者清空这一格（按证件号码识别）。"
    ),
    "birth_disagrees": (
        "出生日期填的是{value}，但证件号码（{masked}）里的出生日期是{birth}。"
        "请核对是号码还是出生日期填错了（常见于整行错位）。"
    ),
    "bad_si_flag": "是否有社保只能填“是”或“否”，“{value}”看不懂。请改为“是”或“否”。",
    "over_age": (
        "有社保，但到起保日{start}已满{age}周岁（{sex}性满{limit}周岁即为超龄）。"
        "请移除此人；如确认社保尚在缴金（医保享受在职待遇），可保留，"
        "在平台清册校验时勾选【社保尚在缴金】。"
    ),
    "control_chars": (
        "“{column}”里有看不见的控制字符（常见于从网页或其他系统复制），检查时已删除。"
        "请在原表中重新输入这一格。"
    ),
    "ineligible": (
        "没有社保，且到起保日{start}已满{age}周岁（女性满{female}周岁、男性满{male}周岁），"
        "不能参加互助保障。请从名单中删除此行；如其实有社保，请把是否有社保改为“是”。"
    ),
}

_WHAT: dict[RosterField, str] = {
    RosterField.NAME: "姓名",
    RosterField.DOC_TYPE: "证件类型（如居民身份证）",
    RosterField.ID_NUMBER: "完整的证件号码",
    RosterField.SOCIAL_INSURANCE: "“是”或“否”",
}


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
    message: str
    suggestion: str | None = None

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

_PHONE_NOISE = re.compile(r"[\s\-()]+")
_BLANKS = re.compile(r"[\s\u200b\ufeff]+")
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d*)?E[+-]?\d+")
_FREE_FORMAT = re.compile(r"[A-Z0-9()\-]+")
_RESIDENT_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_DATE_PARTS = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
# Excel's 1900 date system counts 1900-02-29, which never existed: serials from 61 on are
# days since 1899-12-30, earlier ones days since 1899-12-31.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


def _key(text: str) -> str:
    return _BLANKS.sub("", unicodedata.normalize("NFKC", text)).upper()


def _echo(text: str, limit: int = 20) -> str:
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
        text: str,
        suggestion: str | None = None,
    ) -> None:
        self.findings.append(RowFinding(row.row, self.column(name), name, code, text, suggestion))

    def check(self, row: RosterRow) -> None:
        before = len(self.findings)
        for name in sorted(row.cleaned, key=TEMPLATE_FIELDS.index):
            self.add(
                row,
                name,
                Code.CONTROL_CHARS,
                _TEXT["control_chars"].format(column=self.column(name)),
            )
        for required in sorted(REQUIRED_FIELDS, key=TEMPLATE_FIELDS.index):
            if not row.cell(required).strip():
                self.add(
                    row,
                    required,
                    Code.MISSING_REQUIRED,
                    _TEXT["missing_required"].format(
                        column=self.column(required), what=_WHAT[required]
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
            choices = "、".join(d.value for d in DocType)
            self.add(
                row,
                RosterField.DOC_TYPE,
                Code.BAD_DOC_TYPE,
                _TEXT["bad_doc_type"].format(value=_echo(label), choices=choices),
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
            self.add(row, RosterField.ID_NUMBER, Code.NUMERIC_ID, _TEXT["numeric_id"])
            return None, None
        number = normalize_id(raw)
        first = self.first_row_of.setdefault(number, row.row)
        if first != row.row:
            self.add(
                row,
                RosterField.ID_NUMBER,
                Code.DUPLICATE_ID,
                _TEXT["duplicate_id"].format(masked=mask_id(number), first=first),
            )
        if doc_type is None:
            return number, None
        if doc_type.structured:
            result = parse_id(number, doc_type, self.start)
            if isinstance(result, IdProblem):
                code = Code(result.code)
                # The upgraded number is shown masked nowhere: a masked number is of no use
                # to the handler, who finds it in full in the annotated workbook.
                message = _TEXT["id_old_15"] if code is Code.ID_OLD_15 else result.message
                self.add(
                    row,
                    RosterField.ID_NUMBER,
                    code,
                    message,
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
                _TEXT["doc_type_is_resident_id"].format(
                    doc_type=doc_type.value, masked=mask_id(number)
                ),
            )
        elif not _FREE_FORMAT.fullmatch(number):
            self.add(
                row,
                RosterField.ID_NUMBER,
                Code.ID_FORMAT,
                _TEXT["free_format_chars"].format(doc_type=doc_type.value),
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
                _TEXT["birth_unreadable"].format(value=_echo(text)),
            )
        elif not _EARLIEST_BIRTH <= birth <= self.start:
            self.add(
                row,
                RosterField.BIRTH_DATE,
                Code.BAD_BIRTHDATE,
                _TEXT["birth_out_of_range"].format(
                    value=cn_date(birth), start=cn_date(self.start)
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
                    _TEXT[key].format(doc_type=doc_type.value, value=_echo(sex_text)),
                )
            if not birth_text:
                self.add(
                    row,
                    RosterField.BIRTH_DATE,
                    Code.BIRTH_GENDER_REQUIRED,
                    _TEXT["birth_required"].format(doc_type=doc_type.value),
                )
        if info is None:
            return (sex, birth) if columns_required else (None, None)
        # A valid structured number is authoritative; the columns must agree with it.
        if sex_text and sex is None and not columns_required:
            self.add(
                row,
                RosterField.SEX,
                Code.GENDER_MISMATCH,
                _TEXT["sex_unreadable_with_id"].format(value=_echo(sex_text)),
            )
        elif sex is not None and sex is not info.sex:
            self.add(
                row,
                RosterField.SEX,
                Code.GENDER_MISMATCH,
                _TEXT["sex_disagrees"].format(
                    value=sex.value, masked=mask_id(info.number), sex=info.sex.value
                ),
            )
        if birth is not None and birth != info.birth_date:
            self.add(
                row,
                RosterField.BIRTH_DATE,
                Code.BIRTH_MISMATCH,
                _TEXT["birth_disagrees"].format(
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
                _TEXT["bad_si_flag"].format(value=_echo(text)),
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
            self.add(row, source, Code.OVER_AGE, _TEXT["over_age"].format(**facts))
        elif category is Category.INELIGIBLE:
            self.add(row, source, Code.INELIGIBLE, _TEXT["ineligible"].format(**facts))
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


def _only_si_answer_wrong(findings: Sequence[RowFinding]) -> bool:
    """Whether a row's errors all come from its 是否有社保 answer: blank, unreadable, or
    否 at an age only 职保 staff may enroll (the message says to change it to 是)."""
    errors = [f for f in findings if f.severity is Severity.ERROR]
    return bool(errors) and all(
        f.code in (Code.BAD_SI_FLAG, Code.INELIGIBLE)
        or (f.code is Code.MISSING_REQUIRED and f.field is RosterField.SOCIAL_INSURANCE)
        for f in errors
    )


def people_if_insured(
    rows: Sequence[RosterRow],
    check: RosterCheck,
    *,
    policy: PolicyYear,
    start: dt.date,
    headers: Mapping[RosterField, str] | None = None,
) -> tuple[Person, ...]:
    """The people of the rows ``check`` kept out only for their 是否有社保 answer, as they
    are once the unit says they pay social insurance (是): a 职保 employee, or an over-age
    one to remove or confirm. The unit settles such a row in chat instead of re-uploading.
    The rows' other cells were checked already (a duplicate number is an error of its own,
    so such a row is not here)."""
    by_row: dict[int, list[RowFinding]] = {}
    for finding in check.findings:
        by_row.setdefault(finding.row, []).append(finding)
    wanted = {row for row, found in by_row.items() if _only_si_answer_wrong(found)}
    fixed = [
        RosterRow(
            r.row,
            {**r.cells, RosterField.SOCIAL_INSURANCE: "是"},
            r.numeric - {RosterField.SOCIAL_INSURANCE},
            r.cleaned,
        )
        for r in rows
        if r.row in wanted
    ]
    return check_rows(fixed, policy=policy, start=start, headers=headers).people


# --- unit checks --------------------------------------------------------------------

SI_DECLARATION_FORM = "《社会保险费缴费申报表》或《单位参加城镇社会保险基本情况》"
SEALED_STATEMENT = "加盖公章的情况说明"
# The handbook's sample supporting documents, each with the situation it explains.
SUPPORTING_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("《人员转出核定表》或《退工单》", "系统中社保关系仍在本单位，实际已离职"),
    ("《个人养老金核定表》", "系统中社保关系仍在本单位，实际已退休"),
    ("劳务派遣、人事代理单位开具的情况说明（写明人员明细）", "单位中有劳务派遣人员"),
    ("任命书", "社保关系在其他单位，实际在本单位任职"),
    ("《人员转入核定表》", "社保关系实际已转入本单位，系统内还未转入"),
)


@dataclass(frozen=True)
class Attachment:
    name: str
    reason: str
    conditional: bool = False
    """Uploaded only if the unit's situation matches (a supporting document)."""


@dataclass(frozen=True)
class ChangeCheck:
    """Change against last year: (last year's count - this year's) / last year's count."""

    last_year: int
    this_year: int
    change: Decimal
    passes: bool


@dataclass(frozen=True)
class RatioCheck:
    """Roster count over the social-insurance payers on all the unit's linked SI codes."""

    people: int
    si_payers: int
    ratio: Decimal | None
    small_unit: bool
    passes: bool


@dataclass(frozen=True)
class UnitCheck:
    people: int
    new_unit: bool
    change: ChangeCheck | None
    ratio: RatioCheck | None
    ratio_required: bool | None
    """Whether the platform will look at the ratio; None when that cannot be told yet."""
    passes: bool | None
    """Whether the platform's roster validation passes; None when the figures are missing."""
    attachments: tuple[Attachment, ...]
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        """The unit checks as JSON; ``change`` is (last year - this year) / last year, so a
        positive figure is a decrease."""
        change = self.change
        ratio = self.ratio
        return {
            "people": self.people,
            "new_unit": self.new_unit,
            "change": None
            if change is None
            else {
                "last_year": change.last_year,
                "this_year": change.this_year,
                "change": float(change.change),
                "passes": change.passes,
            },
            "si_ratio": None
            if ratio is None
            else {
                "si_payers": ratio.si_payers,
                "ratio": None if ratio.ratio is None else float(ratio.ratio),
                "small_unit": ratio.small_unit,
                "passes": ratio.passes,
            },
            "ratio_required": self.ratio_required,
            "passes": self.passes,
            "attachments": [{"name": a.name, "reason": a.reason} for a in self.attachments],
            "notes": list(self.notes),
        }


def check_change(last_year: int, this_year: int, policy: PolicyYear) -> ChangeCheck:
    """Rule two of the platform's validation: the change against last year within ±10%."""
    change = (Decimal(last_year - this_year) / Decimal(last_year)).quantize(Decimal("0.0001"))
    return ChangeCheck(last_year, this_year, change, abs(change) <= policy.roster.change_tolerance)


def check_ratio(people: int, si_payers: int, policy: PolicyYear) -> RatioCheck:
    """Rule three: roster count / SI payers within 75%..100%, exactly 100% for units of
    10 people or fewer."""
    limits = policy.roster
    small = people <= limits.small_unit_max_people
    if si_payers <= 0:
        return RatioCheck(people, si_payers, None, small, False)
    ratio = (Decimal(people) / Decimal(si_payers)).quantize(Decimal("0.0001"))
    passes = ratio == 1 if small else limits.si_ratio_min <= ratio <= limits.si_ratio_max
    return RatioCheck(people, si_payers, ratio, small, passes)


def check_unit(
    people: int,
    *,
    policy: PolicyYear,
    last_year: int | None = None,
    si_payers: int | None = None,
    new_unit: bool = False,
) -> UnitCheck:
    """The unit-level checks of the platform's roster validation for ``people`` enrolling.

    A renewing unit within ±10% of last year passes; otherwise (and always for a new unit)
    the social-insurance ratio decides. A new unit always uploads the SI declaration form.
    """
    limits = policy.roster
    tolerance = percent(limits.change_tolerance)
    band = f"{percent(limits.si_ratio_min)}～{percent(limits.si_ratio_max)}"
    notes: list[str] = []
    attachments: list[Attachment] = []

    change: ChangeCheck | None = None
    if new_unit:
        if last_year:
            notes.append("新参保单位没有上年度参保人数，不做增减幅度校验。")
    elif last_year is not None and last_year > 0:
        change = check_change(last_year, people, policy)
        direction = "减少" if change.change > 0 else "增加" if change.change < 0 else "持平，变化"
        verdict = (
            f"在±{tolerance}以内，增减幅度校验通过。"
            if change.passes
            else f"超出±{tolerance}，平台会再校验单位社保参保比例。"
        )
        notes.append(
            f"参保人数：上年度{last_year}人，本次{people}人，"
            f"{direction}{percent(abs(change.change))}，{verdict}"
        )
    elif last_year == 0:
        notes.append("上年度参保人数为0，无法计算增减幅度，按社保参保比例校验。")

    ratio_required: bool | None
    if new_unit or last_year == 0:
        ratio_required = True
    elif change is not None:
        ratio_required = not change.passes
    else:
        ratio_required = None

    ratio = check_ratio(people, si_payers, policy) if si_payers is not None else None
    if ratio is not None:
        rule = "须达到100%" if ratio.small_unit else f"须在{band}之间"
        size = (
            f"参保人数{people}人，不超过{limits.small_unit_max_people}人，"
            if ratio.small_unit
            else ""
        )
        shown = "无法计算（社保缴费人数为0）" if ratio.ratio is None else percent(ratio.ratio)
        notes.append(
            f"社保参保比例：{people}÷{si_payers}={shown}（{size}{rule}）"
            + ("，符合要求。" if ratio.passes else "，不符合要求。")
            + ("（增减幅度校验已通过，这一项仅供参考。）" if ratio_required is False else "")
        )
    if ratio_required is None:
        notes.append(
            "没有上年度参保人数，无法判断增减幅度；如超出±"
            f"{tolerance}，平台会再校验社保参保比例（{band}）。"
        )
    elif ratio_required and ratio is None:
        notes.append("平台会校验社保参保比例：请提供所关联社保编码的缴费人数合计，才能判断。")

    passes: bool | None
    if change is not None and change.passes:
        passes = True
    elif ratio_required and ratio is not None:
        passes = ratio.passes
    else:
        passes = None

    if new_unit:
        attachments.append(
            Attachment(
                SI_DECLARATION_FORM,
                "新参保单位无论社保参保比例多少都要上传，表上须显示社保缴费总人数。",
            )
        )
    # With last year's count unknown, a failing ratio matters only if the change turns out
    # to exceed the tolerance: the statement is then needed, and said so.
    if ratio_required is not False and ratio is not None and not ratio.passes:
        shown = "无法计算" if ratio.ratio is None else percent(ratio.ratio)
        reason = f"社保参保比例{shown}不符合要求" + (
            f"（{limits.small_unit_max_people}人及以下的单位须达到100%）"
            if ratio.small_unit
            else f"（须在{band}之间）"
        )
        if ratio_required is None:
            reason = f"如人数比上年度增减超过±{tolerance}，{reason}"
        if not new_unit:
            attachments.append(
                Attachment(
                    SEALED_STATEMENT,
                    f"{reason}，续保单位须说明原因。",
                    conditional=ratio_required is None,
                )
            )
        attachments.extend(
            Attachment(name, f"如{situation}，按实际情况上传此件。", conditional=True)
            for name, situation in SUPPORTING_DOCUMENTS
        )
    if attachments:
        notes.append(
            f"上传附件后需要审核，约{policy.review_working_days.attachments}个工作日；"
            "结果以平台为准。"
        )
    return UnitCheck(
        people=people,
        new_unit=new_unit,
        change=change,
        ratio=ratio,
        ratio_required=ratio_required,
        passes=passes,
        attachments=tuple(attachments),
        notes=tuple(notes),
    )
