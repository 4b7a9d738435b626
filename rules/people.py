"""Who may join which plans: a person's category on the coverage start date."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from rules.ids import Sex, age_on
from rules.policy import PolicyYear
from rules.sentence import CatalogLabels


class Category(StrEnum):
    ZHIBAO = "zhibao"
    """In 职保 and in service (or confirmed as still paying social insurance): every plan."""
    NON_ZHIBAO = "non_zhibao"
    """Not in 职保, under the age limit: every plan but A0, A1-A3 without the 起付线 subsidy."""
    OVER_AGE = "over_age"
    """In 职保 but at or over the age limit: remove, or confirm 社保尚在缴金 to keep."""
    INELIGIBLE = "ineligible"
    """Not in 职保 and at or over the age limit, or retired: cannot enroll."""


CATEGORY_LABELS = CatalogLabels("rules.category", Category)


def age_limit(sex: Sex, policy: PolicyYear) -> int:
    """The age (whole years) at which a person counts as over age."""
    return policy.age_limits.female if sex is Sex.FEMALE else policy.age_limits.male


def is_over_age(birth: dt.date, sex: Sex, start: dt.date, policy: PolicyYear) -> bool:
    """Woman 55 or older, man 60 or older on the coverage start date ("未满" not met)."""
    return age_on(birth, start) >= age_limit(sex, policy)


def categorize(
    *,
    has_social_insurance: bool,
    sex: Sex,
    birth: dt.date,
    start: dt.date,
    policy: PolicyYear,
    confirmed_still_paying: bool = False,
    retired: bool = False,
) -> Category:
    """A person's category on coverage start date ``start``.

    ``confirmed_still_paying`` is the unit's 社保尚在缴金 / 医保享受在职待遇 confirmation for
    over-age staff; it makes them count as in-service 职保 people.
    """
    if retired:
        return Category.INELIGIBLE
    over = is_over_age(birth, sex, start, policy)
    if has_social_insurance:
        if over and not confirmed_still_paying:
            return Category.OVER_AGE
        return Category.ZHIBAO
    return Category.INELIGIBLE if over else Category.NON_ZHIBAO


def decided_category(*, social_insurance: bool, over_age: bool, kept: bool) -> Category:
    """A checked person's category after the unit's decisions: without social insurance
    (and under the age limit, or the roster check would have refused the row) not in 职保;
    in 职保 at or over the age limit, over age until ``kept`` (社保尚在缴金 confirmed)."""
    if not social_insurance:
        return Category.NON_ZHIBAO
    if over_age and not kept:
        return Category.OVER_AGE
    return Category.ZHIBAO
