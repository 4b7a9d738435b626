"""参保名单校验: each row as the platform judges it, and the unit's 清册校验 rules
(增减幅度±10%, 社保参保比例75%~100%, 10人及以下须100%, 新参保单位必传申报表)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.people import Category
from rules.policy import latest_policy_year
from rules.roster import (
    Code,
    RosterField,
    RosterRow,
    Severity,
    check_rows,
    check_unit,
    parse_birth_date,
)

from roster_builders import id_number, roster_row

POLICY = latest_policy_year()
START = POLICY.coverage.start
STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999's own example: a woman born 1949


def check(*rows, headers=None, start=START, policy=POLICY):
    return check_rows(rows, policy=policy, start=start, headers=headers)


def found(result):
    return [(f.row, f.column, f.code) for f in result.findings]


def test_a_valid_row_raises_nothing_and_is_ready_for_the_platform():
    result = check(roster_row(2, id_number=id_number(dt.date(1990, 5, 17), male=False)))
    assert result.findings == ()
    [person] = result.people
    assert person.category is Category.ZHIBAO
    assert person.birth_date == dt.date(1990, 5, 17)


# A woman born 1990-01-01 whose check character is X, so lowercase x is really exercised.
X_ENDING = next(
    n for s in range(100) if (n := id_number(dt.date(1990, 1, 1), male=False, seq=s)).endswith("X")
)
WIDE = str.maketrans("0123456789X", "０１２３４５６７８９x")


@pytest.mark.parametrize(
    "cells",
    [
        {"id_number": f" {X_ENDING.translate(WIDE)} "},  # full-width, lowercase x, spaces
        {"id_number": f" {X_ENDING[:6]} {X_ENDING[6:14]} {X_ENDING[14:].lower()}"},
        {"id_number": "'" + X_ENDING},  # Excel's leading apostrophe
        {"doc_type": "身份证"},
        {"doc_type": " 居民身份证 "},
        {"social_insurance": "有"},
        {"social_insurance": "Y"},
        {"social_insurance": "否"},
        {"social_insurance": "无"},
        {"sex": "女", "birth_date": "1990/1/1"},
        {"sex": "女性", "birth_date": "1990年1月1日"},
        {"birth_date": "19900101"},
        {"name": "  阿依古丽·买买提  "},
    ],
)
def test_valid_rows_after_normalization_raise_nothing(cells):
    defaults = {"id_number": X_ENDING}
    assert found(check(roster_row(2, **{**defaults, **cells}))) == []


def test_the_standards_example_validates_even_with_lowercase_x():
    result = check(roster_row(2, id_number=STANDARD_EXAMPLE.lower(), social_insurance="否"))
    # Valid number; a woman of 73 without social insurance cannot enroll.
    assert [f.code for f in result.findings] == [Code.INELIGIBLE]


VALID = id_number(dt.date(1990, 1, 1), male=True)
FEMALE = id_number(dt.date(1990, 1, 1), male=False)


@pytest.mark.parametrize(
    ("cells", "column", "code", "fix"),
    [
        ({"name": ""}, "姓名", Code.MISSING_REQUIRED, "请补上姓名"),
        ({"doc_type": ""}, "证件类型", Code.MISSING_REQUIRED, "居民身份证"),
        ({"id_number": "  "}, "证件号码", Code.MISSING_REQUIRED, "证件号码"),
        ({"social_insurance": ""}, "是否有社保", Code.MISSING_REQUIRED, "“是”或“否”"),
        ({"doc_type": "驾驶证"}, "证件类型", Code.BAD_DOC_TYPE, "下拉列表"),
        ({"id_number": VALID[:17]}, "证件号码", Code.ID_FORMAT, "18位"),
        ({"id_number": VALID[:16] + "AB"}, "证件号码", Code.ID_FORMAT, "18位"),
        (
            {"id_number": VALID[:17] + ("0" if VALID[17] != "0" else "1")},
            "证件号码",
            Code.ID_CHECKSUM,
            "逐位核对",
        ),
        ({"id_number": "110105194902300020"}, "证件号码", Code.ID_BIRTHDATE, "出生日期"),
        ({"id_number": "110105491231002"}, "证件号码", Code.ID_OLD_15, "18位"),
        ({"id_number": "3.10101E+17"}, "证件号码", Code.NUMERIC_ID, "文本"),
        (
            {"doc_type": "护照", "id_number": "E12345678", "birth_date": "1990-01-01"},
            "性别",
            Code.BIRTH_GENDER_REQUIRED,
            "男或女",
        ),
        (
            {"doc_type": "护照", "id_number": "E12345678", "sex": "女"},
            "出生日期",
            Code.BIRTH_GENDER_REQUIRED,
            "1990-01-01",
        ),
        (
            {
                "doc_type": "护照",
                "id_number": "E12345678",
                "sex": "女",
                "birth_date": "1990-13-45",
            },
            "出生日期",
            Code.BAD_BIRTHDATE,
            "1990-01-01",
        ),
        (
            {
                "doc_type": "护照",
                "id_number": "E12345678",
                "sex": "女",
                "birth_date": "2030-01-01",
            },
            "出生日期",
            Code.BAD_BIRTHDATE,
            "核对",
        ),
        (
            {"doc_type": "护照", "id_number": "护照E123", "sex": "女", "birth_date": "1990-01-01"},
            "证件号码",
            Code.ID_FORMAT,
            "字母和数字",
        ),
        (
            {"doc_type": "护照", "id_number": VALID, "sex": "男", "birth_date": "1990-01-01"},
            "证件类型",
            Code.BAD_DOC_TYPE,
            "居民身份证",
        ),
        ({"id_number": VALID, "sex": "女"}, "性别", Code.GENDER_MISMATCH, "整行错位"),
        ({"id_number": FEMALE, "sex": "M"}, "性别", Code.GENDER_MISMATCH, "核对"),
        ({"id_number": VALID, "sex": "未知"}, "性别", Code.GENDER_MISMATCH, "男"),
        (
            {"id_number": VALID, "birth_date": "1990-01-02"},
            "出生日期",
            Code.BIRTH_MISMATCH,  # issue 13 item 4: it was reported as gender_mismatch
            "1990年1月1日",
        ),
        ({"id_number": VALID, "birth_date": "去年"}, "出生日期", Code.BAD_BIRTHDATE, "格式"),
        ({"social_insurance": "不知道"}, "是否有社保", Code.BAD_SI_FLAG, "“是”或“否”"),
    ],
)
def test_each_kind_of_row_problem_names_its_row_column_and_fix(cells, column, code, fix):
    result = check(roster_row(7, **cells))
    assert (7, column, code) in found(result)
    message = next(f.message for f in result.findings if f.code is code)
    assert fix in message
    assert result.people == ()


def test_an_id_cell_stored_as_a_number_is_never_repaired():
    row = roster_row(3, id_number="310101199001010000", numeric=[RosterField.ID_NUMBER])
    result = check(row)
    assert found(result) == [(3, "证件号码", Code.NUMERIC_ID)]
    assert "无法恢复" in result.findings[0].message
    assert result.findings[0].suggestion is None


def test_old_15_digit_number_points_to_the_18_digit_form_in_the_annotated_workbook():
    [finding] = check(roster_row(4, id_number="110105491231002")).findings
    assert finding.code is Code.ID_OLD_15
    assert finding.suggestion == STANDARD_EXAMPLE
    assert STANDARD_EXAMPLE not in finding.message
    # Issue 13 item 17: a masked number is of no use; the full one is in the workbook.
    assert "*" not in finding.message
    assert "标注文件" in finding.message and "问题说明" in finding.message


@pytest.mark.parametrize(
    "doc_type", ["港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证", "护照", "台胞证"]
)
def test_every_document_but_the_resident_id_needs_sex_and_birth_date(doc_type):
    prefix = {
        "港澳居民居住证": "810000",
        "台湾居民居住证": "830000",
        "外国人永久居留身份证": "931156",
    }
    number = id_number(region=prefix[doc_type]) if doc_type in prefix else "E12345678"
    result = check(roster_row(5, doc_type=doc_type, id_number=number))
    assert found(result) == [
        (5, "性别", Code.BIRTH_GENDER_REQUIRED),
        (5, "出生日期", Code.BIRTH_GENDER_REQUIRED),
    ]
    filled = check(
        roster_row(5, doc_type=doc_type, id_number=number, sex="男", birth_date="1990-01-01")
    )
    assert filled.findings == ()


def test_duplicate_id_flags_the_second_and_later_rows_naming_the_first():
    number = id_number(dt.date(1988, 3, 3))
    result = check(
        roster_row(2, id_number=number),
        roster_row(3, id_number=id_number(dt.date(1988, 3, 4))),
        roster_row(4, id_number=number.lower()),
        roster_row(5, id_number=f" {number} "),
    )
    assert found(result) == [
        (4, "证件号码", Code.DUPLICATE_ID),
        (5, "证件号码", Code.DUPLICATE_ID),
    ]
    assert all("第2行" in f.message for f in result.findings)
    assert [p.row for p in result.people] == [2, 3]


@pytest.mark.parametrize(
    ("male", "birth", "social_insurance", "code"),
    [
        (False, dt.date(1968, 7, 2), "否", None),  # 55th birthday the day after the start
        (False, dt.date(1968, 7, 1), "否", Code.INELIGIBLE),  # 55th birthday on the start
        (True, dt.date(1963, 7, 2), "否", None),
        (True, dt.date(1963, 7, 1), "否", Code.INELIGIBLE),
        (False, dt.date(1968, 7, 1), "是", Code.OVER_AGE),
        (True, dt.date(1963, 7, 1), "是", Code.OVER_AGE),
        (True, dt.date(1968, 7, 1), "否", None),  # a man of 55 is fine
    ],
)
def test_age_limit_is_whole_years_on_the_coverage_start_date(male, birth, social_insurance, code):
    row = roster_row(2, id_number=id_number(birth, male=male), social_insurance=social_insurance)
    codes = [f.code for f in check(row).findings]
    assert codes == ([] if code is None else [code])


def test_over_age_is_a_warning_to_confirm_and_the_person_stays_importable():
    row = roster_row(9, id_number=id_number(dt.date(1960, 1, 1), male=False))
    result = check(row)
    [finding] = result.findings
    assert finding.severity is Severity.WARNING
    assert "社保尚在缴金" in finding.message and "移除" in finding.message
    assert result.errors == () and result.warnings == (finding,)
    assert [p.category for p in result.people] == [Category.OVER_AGE]


def test_ineligible_is_an_error_and_says_to_delete_the_row():
    row = roster_row(9, id_number=id_number(dt.date(1960, 1, 1)), social_insurance="否")
    [finding] = check(row).errors
    assert finding.code is Code.INELIGIBLE
    assert "删除" in finding.message


def test_only_over_age_and_removed_control_characters_are_warnings():
    warnings = {c for c in Code if c.severity is Severity.WARNING}
    assert warnings == {Code.OVER_AGE, Code.CONTROL_CHARS}


def test_removed_control_characters_are_a_warning_per_cell_and_the_row_stays_importable():
    row = RosterRow(
        5,
        roster_row(5, name="王芳").cells,
        cleaned=frozenset({RosterField.SOCIAL_INSURANCE, RosterField.NAME}),
    )
    result = check(row, headers={RosterField.NAME: "员工姓名"})
    assert [(f.column, f.code) for f in result.warnings] == [
        ("员工姓名", Code.CONTROL_CHARS),
        ("是否有社保", Code.CONTROL_CHARS),
    ]
    assert "控制字符" in result.warnings[0].message and "已删除" in result.warnings[0].message
    assert [p.name for p in result.people] == ["王芳"]


def test_an_instant_start_date_moves_the_age_line():
    row = roster_row(
        2, id_number=id_number(dt.date(1968, 9, 1), male=False), social_insurance="否"
    )
    assert check(row).findings == ()
    later = check(row, start=dt.date(2023, 9, 1))
    assert [f.code for f in later.findings] == [Code.INELIGIBLE]


def test_age_limits_come_from_the_policy_data():
    younger_limits = POLICY.model_copy(
        update={"age_limits": POLICY.age_limits.model_copy(update={"female": 50})}
    )
    row = roster_row(
        2, id_number=id_number(dt.date(1972, 1, 1), male=False), social_insurance="否"
    )
    assert check(row).findings == ()
    assert [f.code for f in check(row, policy=younger_limits).findings] == [Code.INELIGIBLE]


def test_findings_name_the_column_as_the_units_file_writes_it():
    headers = {RosterField.ID_NUMBER: "身份证号码", RosterField.NAME: "姓名*"}
    result = check(roster_row(2, id_number="123", name=""), headers=headers)
    assert found(result) == [
        (2, "姓名*", Code.MISSING_REQUIRED),
        (2, "身份证号码", Code.ID_FORMAT),
    ]


def test_no_message_shows_a_full_id_number():
    numbers = [id_number(dt.date(1950 + i, 1, 1), male=bool(i % 2)) for i in range(6)]
    rows = [
        roster_row(2, id_number=numbers[0]),
        roster_row(3, id_number=numbers[0]),  # duplicate
        roster_row(4, id_number=numbers[1], sex="女"),  # mismatch
        roster_row(5, id_number=numbers[2], birth_date="1999-01-01"),
        roster_row(6, doc_type="护照", id_number=numbers[3], sex="男", birth_date="1953-01-01"),
        roster_row(7, id_number=numbers[4], social_insurance="否"),
        roster_row(8, doc_type="护照", id_number="E1", sex=numbers[5], birth_date=numbers[5]),
    ]
    result = check(*rows)
    assert len(result.findings) >= 7
    for finding in result.findings:
        assert not re.search(r"\d{15}", finding.message), finding.message


def test_blank_rows_are_skipped_and_a_prefilled_serial_number_is_blank():
    blank = RosterRow(3, {RosterField.SEQ: "2", RosterField.NAME: "  "})
    result = check(roster_row(2), blank)
    assert result.rows == 1 and result.findings == ()


def test_people_are_counted_by_category():
    rows = [
        roster_row(2, id_number=id_number(dt.date(1990, 1, 1), seq=1)),
        roster_row(3, id_number=id_number(dt.date(1990, 1, 1), seq=2), social_insurance="否"),
        roster_row(4, id_number=id_number(dt.date(1950, 1, 1)), social_insurance="是"),
        roster_row(5, id_number=id_number(dt.date(1950, 1, 2)), social_insurance="否"),
        roster_row(6, id_number="123"),
    ]
    result = check(*rows)
    assert result.people_json() == {
        "zhibao": 1,
        "non_zhibao": 1,
        "over_age": 1,
        "ineligible": 1,
        "undetermined": 1,
        "total": 5,
    }


@pytest.mark.parametrize(
    ("text", "numeric", "expected"),
    [
        ("1990-01-01", False, dt.date(1990, 1, 1)),
        ("1990/1/1", False, dt.date(1990, 1, 1)),
        ("1990.1.1", False, dt.date(1990, 1, 1)),
        ("19900101", False, dt.date(1990, 1, 1)),
        ("19900101", True, dt.date(1990, 1, 1)),
        ("1990年1月1日", False, dt.date(1990, 1, 1)),
        ("1990-01-01 00:00:00", False, dt.date(1990, 1, 1)),
        ("32874", True, dt.date(1990, 1, 1)),  # Excel serial number
        ("32874", False, None),
        ("1990-02-30", False, None),
        ("一九九〇年", False, None),
    ],
)
def test_birth_dates_as_handlers_type_them(text, numeric, expected):
    assert parse_birth_date(text, numeric=numeric) == expected


@given(st.dictionaries(st.sampled_from(list(RosterField)), st.text(max_size=30), max_size=8))
def test_any_cell_text_gives_findings_never_an_exception(cells):
    result = check_rows([RosterRow(2, cells)], policy=POLICY, start=START)
    assert all(f.row == 2 for f in result.findings)


# --- unit checks ----------------------------------------------------------------------


def unit(people, **kw):
    return check_unit(people, policy=POLICY, **kw)


@pytest.mark.parametrize(
    ("last_year", "people", "passes"),
    [(100, 90, True), (100, 110, True), (100, 89, False), (100, 111, False), (100, 100, True)],
)
def test_change_against_last_year_within_ten_percent_passes(last_year, people, passes):
    result = unit(people, last_year=last_year)
    assert result.change is not None and result.change.passes is passes
    assert result.ratio_required is (not passes)
    assert result.passes is (True if passes else None)


@pytest.mark.parametrize(
    ("people", "si_payers", "passes"),
    [(75, 100, True), (74, 100, False), (100, 100, True), (101, 100, False), (11, 12, True)],
)
def test_renewing_unit_outside_ten_percent_is_judged_by_the_si_ratio(people, si_payers, passes):
    result = unit(people, last_year=200, si_payers=si_payers)
    assert result.ratio is not None and result.ratio.passes is passes
    assert result.passes is passes
    names = [a.name for a in result.attachments]
    if passes:
        assert names == []
    else:
        assert names[0] == "加盖公章的情况说明"
        assert "《个人养老金核定表》" in names
        assert all(a.reason for a in result.attachments)


@pytest.mark.parametrize(("people", "si_payers", "passes"), [(10, 10, True), (9, 10, False)])
def test_a_unit_of_ten_or_fewer_needs_exactly_one_hundred_percent(people, si_payers, passes):
    result = unit(people, last_year=50, si_payers=si_payers)
    assert result.ratio is not None and result.ratio.small_unit
    assert result.passes is passes


def test_a_new_unit_always_uploads_the_si_declaration_form():
    result = unit(90, si_payers=100, new_unit=True)
    assert result.passes is True
    [form] = result.attachments
    assert "社会保险费缴费申报表" in form.name and "新参保单位" in form.reason


def test_a_new_unit_outside_the_ratio_adds_supporting_documents_but_no_sealed_statement():
    result = unit(50, si_payers=100, new_unit=True)
    names = [a.name for a in result.attachments]
    assert result.passes is False
    assert "社会保险费缴费申报表" in names[0]
    assert "加盖公章的情况说明" not in names
    assert len(names) > 1


def test_unknown_last_year_and_a_failing_ratio_name_the_statement_as_conditional():
    result = unit(12, si_payers=17)
    assert result.passes is None
    [statement, *supporting] = result.attachments
    assert statement.name == "加盖公章的情况说明" and statement.conditional
    assert "±10%" in statement.reason and supporting


def test_without_figures_the_unit_check_says_what_is_missing():
    result = unit(30)
    assert result.passes is None and result.change is None and result.ratio is None
    assert any("±10%" in n for n in result.notes)
    needs_ratio = unit(30, last_year=100)
    assert needs_ratio.passes is None
    assert any("缴费人数" in n for n in needs_ratio.notes)


def test_zero_si_payers_cannot_pass():
    result = unit(5, last_year=100, si_payers=0)
    assert result.ratio is not None and result.ratio.ratio is None and result.passes is False


def test_unit_limits_come_from_the_policy_data():
    looser = POLICY.model_copy(
        update={"roster": POLICY.roster.model_copy(update={"change_tolerance": Decimal("0.2")})}
    )
    assert check_unit(85, policy=looser, last_year=100).passes is True
    assert unit(85, last_year=100).passes is None
