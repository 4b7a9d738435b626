"""参保对象: 职保在职职工; 非职保 女性未满55周岁、男性未满60周岁; 超龄与退休."""

import datetime as dt

import pytest

from rules.ids import Sex
from rules.people import Category, categorize
from rules.policy import latest_policy_year

POLICY = latest_policy_year()
START = dt.date(2023, 7, 1)


def category(has_si, sex, birth, **kw):
    return categorize(
        has_social_insurance=has_si, sex=sex, birth=birth, start=START, policy=POLICY, **kw
    )


@pytest.mark.parametrize(
    ("sex", "birth", "expected"),
    [
        (Sex.FEMALE, dt.date(1968, 7, 2), Category.NON_ZHIBAO),  # 55th birthday tomorrow
        (Sex.FEMALE, dt.date(1968, 7, 1), Category.INELIGIBLE),  # 55th birthday today
        (Sex.MALE, dt.date(1963, 7, 2), Category.NON_ZHIBAO),  # 60th birthday tomorrow
        (Sex.MALE, dt.date(1963, 7, 1), Category.INELIGIBLE),  # 60th birthday today
        (Sex.MALE, dt.date(1968, 7, 1), Category.NON_ZHIBAO),  # a man of 55 is fine
    ],
)
def test_non_zhibao_age_limit_on_the_coverage_start_date(sex, birth, expected):
    assert category(False, sex, birth) is expected


def test_zhibao_under_age_joins_every_plan():
    assert category(True, Sex.FEMALE, dt.date(1990, 1, 1)) is Category.ZHIBAO


def test_zhibao_over_age_must_be_removed_or_confirmed():
    assert category(True, Sex.FEMALE, dt.date(1968, 7, 1)) is Category.OVER_AGE
    confirmed = category(True, Sex.FEMALE, dt.date(1968, 7, 1), confirmed_still_paying=True)
    assert confirmed is Category.ZHIBAO


def test_retirees_cannot_enroll():
    assert category(True, Sex.MALE, dt.date(1990, 1, 1), retired=True) is Category.INELIGIBLE


def test_age_is_taken_on_the_instant_start_date_not_the_policy_year_start():
    later = categorize(
        has_social_insurance=False,
        sex=Sex.FEMALE,
        birth=dt.date(1968, 9, 1),
        start=dt.date(2023, 9, 1),
        policy=POLICY,
    )
    assert later is Category.INELIGIBLE
