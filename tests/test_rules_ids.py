"""ID numbers: GB 11643-1999 structure, permits, normalization, the 15-digit old number."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.ids import DocType, IdInfo, IdProblem, Sex, age_on, mask_id, normalize_id, parse_id

TODAY = dt.date(2023, 7, 1)


def reference_check(first17: str) -> str:
    """The check character as GB 11643-1999 defines it (independent of rules.ids)."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def parse(raw, doc_type=DocType.RESIDENT_ID):
    return parse_id(raw, doc_type, TODAY)


def test_the_standards_own_example_is_valid_and_female():
    info = parse("11010519491231002X")
    assert isinstance(info, IdInfo)
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex is Sex.FEMALE


def test_lowercase_x_full_width_digits_and_spaces_are_normalized():
    assert isinstance(parse(" １１０１０５１９４９１２３１００２x "), IdInfo)
    assert normalize_id("1101 0519 4912 3100 2x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("11010519491231002", "id_format"),  # 17 characters
        ("1101051949123100211", "id_format"),  # 19 characters
        ("11010519491231002A", "id_format"),
        ("110105194912310021", "id_checksum"),
        ("110105194902300020", "id_birthdate"),  # 30 February
    ],
)
def test_each_kind_of_invalid_number(raw, code):
    problem = parse(raw)
    assert isinstance(problem, IdProblem)
    assert problem.code == code


def test_birth_date_in_the_future_is_invalid():
    first17 = "31010120300101001"
    problem = parse(first17 + reference_check(first17))
    assert isinstance(problem, IdProblem) and problem.code == "id_birthdate"


def test_old_15_digit_number_is_recognized_and_the_18_digit_form_offered():
    problem = parse("110105491231002")
    assert isinstance(problem, IdProblem) and problem.code == "id_old_15"
    assert problem.upgraded == "11010519491231002X"


@pytest.mark.parametrize(
    ("prefix", "doc_type"),
    [
        ("810000", DocType.HK_MACAU_PERMIT),
        ("820000", DocType.HK_MACAU_PERMIT),
        ("830000", DocType.TAIWAN_PERMIT),
        ("931156", DocType.FOREIGN_PR_ID),
    ],
)
def test_residence_permits_and_foreign_permanent_resident_id(prefix, doc_type):
    first17 = prefix + "19900101001"
    number = first17 + reference_check(first17)
    info = parse(number, doc_type)
    assert isinstance(info, IdInfo) and info.sex is Sex.MALE
    wrong_type = parse(number, DocType.RESIDENT_ID)
    assert isinstance(wrong_type, IdProblem)


def test_permit_number_must_carry_its_region_prefix():
    first17 = "31010119900101001"
    problem = parse(first17 + reference_check(first17), DocType.TAIWAN_PERMIT)
    assert isinstance(problem, IdProblem) and "830000" in problem.message


digits17 = st.builds(
    lambda region, birth, seq: f"{region}{birth:%Y%m%d}{seq:03d}",
    st.sampled_from(["310101", "310115", "110105", "440305", "320102"]),
    st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2023, 6, 30)),
    st.integers(min_value=0, max_value=999),
)


@given(digits17)
def test_any_number_with_the_right_check_char_is_accepted(first17):
    info = parse(first17 + reference_check(first17))
    assert isinstance(info, IdInfo)
    assert info.sex is (Sex.MALE if int(first17[16]) % 2 else Sex.FEMALE)


@given(digits17, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_is_caught(first17, position, delta):
    number = first17 + reference_check(first17)
    changed = str((int(number[position]) + delta) % 10)
    typo = number[:position] + changed + number[position + 1 :]
    assert isinstance(parse(typo), IdProblem)


def test_mask_shows_only_the_first_and_last_four():
    assert mask_id("310101199001010252") == "3101**********0252"


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (dt.date(1968, 7, 1), dt.date(2023, 6, 30), 54),
        (dt.date(1968, 7, 1), dt.date(2023, 7, 1), 55),
        (dt.date(1964, 2, 29), dt.date(2023, 2, 28), 58),
        (dt.date(1964, 2, 29), dt.date(2023, 3, 1), 59),
    ],
)
def test_age_in_whole_years(birth, day, age):
    assert age_on(birth, day) == age
