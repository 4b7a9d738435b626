"""选择规则: 基本保障至少 1 种, 每类加强保障至多 1 种, 每个项目只能一份."""

import pytest

from rules.errors import InvalidInput
from rules.plans import check_selection, parse_plan_codes
from rules.policy import latest_policy_year

POLICY = latest_policy_year()


def refusal_codes(plans, centralized=None):
    return [r.code for r in check_selection(plans, POLICY, centralized).refusals]


@pytest.mark.parametrize(
    "plans",
    [["A0"], ["B0"], ["C0"], ["A0", "B0", "C0"], ["C0", "A1"], ["B0", "A3", "B3", "C3"]],
)
def test_accepted_selections(plans):
    assert refusal_codes(plans) == []


def test_enhanced_alone_is_refused_for_lack_of_a_basic_plan():
    assert refusal_codes(["A1"]) == ["no_basic"]


def test_enhanced_a_does_not_require_a0_itself():
    assert refusal_codes(["B0", "A2"]) == []


@pytest.mark.parametrize("series", ["A", "B", "C"])
def test_two_enhanced_plans_of_one_series_are_refused(series):
    assert refusal_codes(["A0", f"{series}1", f"{series}2"]) == ["multiple_enhanced"]


def test_every_reason_is_given_at_once():
    codes = refusal_codes(["A1", "A2", "A1", "X9"])
    assert set(codes) == {"unknown_plan", "duplicate_plan", "no_basic", "multiple_enhanced"}


def test_empty_selection_is_refused():
    assert refusal_codes([]) == ["empty_selection"]


def test_instant_enrollment_keeps_the_centralized_plans():
    assert refusal_codes(["A0", "B0"], centralized=["A0", "B0", "C0"]) == [
        "differs_from_centralized"
    ]
    assert refusal_codes(["C0", "B0", "A0"], centralized=["A0", "B0", "C0"]) == []


def test_refusal_messages_are_chinese_and_name_the_codes():
    (refusal,) = check_selection(["A0", "A1", "A2"], POLICY).refusals
    assert "至多选 1 种" in refusal.message
    assert "A1、A2" in refusal.message


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("A0,B0,C0", ("A0", "B0", "C0")),
        ("a0 b0 c0", ("A0", "B0", "C0")),
        ("a0b0c0a1", ("A0", "B0", "C0", "A1")),
        ("Ａ０、Ｂ０", ("A0", "B0")),
        ("A0，C0", ("A0", "C0")),
    ],
)
def test_plan_codes_are_read_in_any_spelling(text, codes):
    assert parse_plan_codes(text) == codes


def test_text_that_is_not_plan_codes_is_refused_not_dropped():
    with pytest.raises(InvalidInput):
        parse_plan_codes("A0,住院")
