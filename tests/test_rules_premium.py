"""Premiums as the handbook states them (一览表 and 即时参保 保费标准)."""

import datetime as dt
from decimal import Decimal

import pytest

from rules.errors import NoPolicyData
from rules.people import Category
from rules.policy import PricingTier, latest_policy_year
from rules.premium import SelectionRefused, person_premium, quote_unit

POLICY = latest_policy_year()
FULL_YEAR_START = dt.date(2023, 7, 1)
HALF_YEAR_START = dt.date(2024, 1, 15)

# 上海职工互助保障项目2020一览表 (full year) and the half-year table, yuan per person.
HANDBOOK_PRICES = [
    ("A0", "120", "60"), ("A1", "135", "67.5"), ("A2", "230", "115"), ("A3", "330", "165"),
    ("B0", "55", "27.5"), ("B1", "100", "50"), ("B2", "235", "117.5"), ("B3", "460", "230"),
    ("C0", "15", "7.5"), ("C1", "40", "20"), ("C2", "75", "37.5"), ("C3", "225", "112.5"),
]  # fmt: skip


def zhibao(plans, start=FULL_YEAR_START):
    return person_premium(plans, Category.ZHIBAO, start, POLICY)


@pytest.mark.parametrize(("code", "full", "half"), HANDBOOK_PRICES)
def test_every_plan_price_full_and_half_year(code, full, half):
    basic = {"A": "A0", "B": "B0", "C": "C0"}[code[0]]
    plans = [code] if code == basic else [basic, code]
    base_full = zhibao([basic]).total if code != basic else Decimal(0)
    base_half = zhibao([basic], HALF_YEAR_START).total if code != basic else Decimal(0)
    assert zhibao(plans).total - base_full == Decimal(full)
    assert zhibao(plans, HALF_YEAR_START).total - base_half == Decimal(half)


def test_basic_trio_together_costs_180_instead_of_190():
    assert zhibao(["A0", "B0", "C0"]).total == Decimal("180")


def test_two_basic_plans_get_no_discount():
    assert zhibao(["A0", "B0"]).total == Decimal("175")


def test_enhanced_plans_on_top_keep_the_trio_discount():
    assert zhibao(["A0", "B0", "C0", "A3", "B3", "C3"]).total == Decimal("180") + 330 + 460 + 225


def test_half_year_start_pays_half_and_loses_discount():
    assert zhibao(["A0", "B0", "C0"], HALF_YEAR_START).total == Decimal("95")


@pytest.mark.parametrize(
    ("start", "tier"),
    [
        (dt.date(2023, 7, 1), PricingTier.FULL_YEAR),
        (dt.date(2023, 12, 31), PricingTier.FULL_YEAR),
        (dt.date(2024, 1, 1), PricingTier.HALF_YEAR),
        (dt.date(2024, 6, 30), PricingTier.HALF_YEAR),
    ],
)
def test_price_tier_changes_on_new_year_day(start, tier):
    assert POLICY.price_tier(start).tier is tier


def test_non_zhibao_person_pays_everything_but_a0_without_discount():
    person = person_premium(["A0", "B0", "C0", "A1"], Category.NON_ZHIBAO, FULL_YEAR_START, POLICY)
    assert person.dropped == ("A0",)
    assert person.plans == ("B0", "C0", "A1")
    assert person.total == Decimal("55") + 15 + 135


def test_only_a0_for_a_non_zhibao_person_is_nothing_to_enroll():
    person = person_premium(["A0"], Category.NON_ZHIBAO, FULL_YEAR_START, POLICY)
    assert not person.enrollable


def test_unit_quote_has_subtotals_per_category_and_total():
    quote = quote_unit(
        ["A0", "B0", "C0", "A2"], FULL_YEAR_START, {Category.ZHIBAO: 8, Category.NON_ZHIBAO: 2}
    )
    subtotals = {c.category: c.subtotal for c in quote.categories}
    assert subtotals[Category.ZHIBAO] == 8 * (180 + 230)
    assert subtotals[Category.NON_ZHIBAO] == 2 * (55 + 15 + 230)
    assert quote.total == 8 * 410 + 2 * 300
    assert quote.discount_total == 8 * 10


def test_unit_quote_reports_people_whose_plans_come_to_nothing():
    quote = quote_unit(["A0"], FULL_YEAR_START, {Category.ZHIBAO: 3, Category.NON_ZHIBAO: 2})
    assert quote.total == 360
    assert [c.category for c in quote.not_enrollable] == [Category.NON_ZHIBAO]
    assert quote.per_person(Category.NON_ZHIBAO) is None


@pytest.mark.parametrize(
    ("plans", "reason"),
    [
        (["A1"], "no_basic"),
        (["A0", "A1", "A2"], "multiple_enhanced"),
        (["A0", "A0"], "duplicate_plan"),
        (["A0", "D1"], "unknown_plan"),
    ],
)
def test_refused_selection_is_never_quoted(plans, reason):
    with pytest.raises(SelectionRefused) as err:
        quote_unit(plans, FULL_YEAR_START, {Category.ZHIBAO: 1})
    assert reason in [r.code for r in err.value.refusals]


def test_start_date_outside_every_policy_year_is_refused():
    with pytest.raises(NoPolicyData, match="2024年7月1日"):
        quote_unit(["A0"], dt.date(2024, 7, 1), {Category.ZHIBAO: 1})
