"""Checking a policy year: each kind of broken year is refused with its reason in Chinese."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources
from typing import Any

import pytest

from rules.datafile import parse_yaml
from rules.policy import packaged_years
from rules.policy_check import calendar_warnings, check_year, publish_problems
from rules.policy_roll import roll_forward
from rules.sentence import Sentence

P = "rules.policy_check"


def _good() -> dict[str, Any]:
    text = resources.files("rules").joinpath("data", "years", "2023.yaml").read_text("utf-8")
    data: dict[str, Any] = parse_yaml(text)
    return copy.deepcopy(data)


def _only(problems: list[Sentence], key: str) -> Sentence:
    assert [p.key for p in problems] == [f"{P}.{key}"], [p.text for p in problems]
    return problems[0]


def test_the_packaged_year_passes():
    data = _good()
    assert check_year(data) == []
    assert calendar_warnings(data) == []
    assert publish_problems(data) == []


def test_a_wrong_half_price_is_refused_with_the_right_one():
    data = _good()
    data["pricing"][1]["prices"]["B0"] = "28"
    found = _only(check_year(data), "half_not_half")
    assert dict(found.values) == {"code": "B0", "full": "55", "half": "28", "expected": "27.5"}
    assert "B0" in found.text and "27.5" in found.text and "一半" in found.text


def test_a_missing_plan_price_is_refused():
    data = _good()
    del data["pricing"][0]["prices"]["C3"]
    found = _only(check_year(data), "price_missing")
    assert dict(found.values)["code"] == "C3"
    assert "全年缴费标准缺少 C3 的价格" in found.text


def test_a_gap_between_tiers_is_refused():
    data = _good()
    data["pricing"][1]["start_from"] = dt.date(2024, 1, 2)
    found = _only(check_year(data), "tier_gap")
    assert dict(found.values)["start"] == "2024年1月2日"
    assert "2023年12月31日" in found.text and "首尾相接" in found.text


def test_a_window_after_coverage_start_is_refused():
    data = _good()
    data["windows"]["centralized"]["close"] = dt.date(2023, 7, 5)
    found = _only(check_year(data), "window_after_coverage")
    assert dict(found.values) == {"close": "2023年7月5日", "start": "2023年7月1日"}
    assert "windows.centralized.close" in found.text


def test_a_year_number_that_is_not_the_coverage_year_is_refused():
    data = _good()
    data["year"] = 2024
    keys = [p.key for p in check_year(data)]
    assert f"{P}.year_mismatch" in keys
    found = next(p for p in check_year(data) if p.key == f"{P}.year_mismatch")
    assert "2024" in found.text and "2023年7月1日" in found.text


def test_a_coverage_that_is_not_twelve_months_is_refused():
    data = _good()
    data["coverage"]["end"] = dt.date(2024, 7, 31)
    keys = {p.key for p in check_year(data)}
    assert f"{P}.coverage_not_12_months" in keys and f"{P}.tier_end" in keys


@pytest.mark.parametrize("account", ["3160-2300-0080-22150", "316023", "3160230000802215O"])
def test_a_bad_account_number_is_refused(account):
    data = _good()
    data["payment"]["account"] = account
    found = _only(check_year(data), "account_format")
    assert "payment.account" in found.text and "10 到 25 位数字" in found.text


def test_ages_out_of_range_and_limits_in_the_wrong_order_are_refused():
    data = _good()
    data["age_limits"]["male"] = 160
    data["roster"]["si_ratio_min"] = "1.10"
    data["review_working_days"]["account_recovery_min"] = 5
    data["roster"]["max_rows_per_file"] = 0
    problems = {p.key: p for p in check_year(data)}
    assert set(problems) == {
        f"{P}.age_out_of_range",
        f"{P}.ratio_order",
        f"{P}.recovery_order",
        f"{P}.not_positive",
    }
    assert "age_limits.male 是 160 岁" in problems[f"{P}.age_out_of_range"].text
    assert "1.10" in problems[f"{P}.ratio_order"].text
    assert "roster.max_rows_per_file" in problems[f"{P}.not_positive"].text


def test_a_plan_of_a_series_the_year_does_not_describe_is_refused():
    data = _good()
    del data["series"]["C"]
    problems = {p.key for p in check_year(data)}
    assert problems == {f"{P}.series_missing", f"{P}.plan_series_unknown"}


def test_an_unknown_series_letter_names_the_field():
    data = _good()
    data["plans"][4]["series"] = "D"
    found = _only(check_year(data), "field.not_allowed")
    assert dict(found.values)["field"] == "plans.4.series"
    assert "plans.4.series（保障计划）只能填" in found.text and "“D”" in found.text


def test_a_price_that_is_not_a_number_names_the_field():
    data = _good()
    data["pricing"][0]["prices"]["A2"] = "二百三"
    found = _only(check_year(data), "field.not_number")
    assert dict(found.values)["field"] == "pricing.0.prices.A2"
    assert "pricing.0.prices.A2（缴费标准）应是金额或数字" in found.text


def test_a_missing_field_is_named():
    data = _good()
    del data["payment"]["bank"]
    found = _only(check_year(data), "field.missing")
    assert found.text == "缺少字段 payment.bank（缴费账户），请补上。"


def test_a_file_that_is_not_a_year_is_refused():
    assert [p.key for p in check_year([1, 2])] == [f"{P}.not_mapping"]  # type: ignore[arg-type]


def test_trio_discount_rules():
    data = _good()
    data["pricing"][1]["trio_discount"] = "5"
    assert _only(check_year(data), "half_trio_discount").values == (("discount", "5"),)
    data = _good()
    data["pricing"][0]["trio_discount"] = "190"
    found = _only(check_year(data), "trio_discount_too_big")
    assert "190 元不小于三件套原价 190 元" in found.text
    data = _good()
    data["pricing"][0]["trio_discount"] = "-1"
    _only(check_year(data), "trio_discount_negative")
    data = _good()
    data["trio"] = ["A0", "B1", "C0"]
    _only(check_year(data), "trio_not_basic")


def test_plans_without_a_basic_plan_or_with_repeated_codes_are_refused():
    data = _good()
    data["plans"][8]["tier"] = "enhanced"  # C0
    keys = {p.key for p in check_year(data)}
    assert f"{P}.series_no_basic" in keys and f"{P}.trio_not_basic" in keys
    data = _good()
    data["plans"][1]["code"] = "A0"
    keys = {p.key for p in check_year(data)}
    assert f"{P}.plan_repeated" in keys


def test_price_in_tenths_of_a_cent_is_refused():
    data = _good()
    data["pricing"][0]["prices"]["C0"] = "15.005"
    keys = {p.key for p in check_year(data)}
    assert f"{P}.price_not_cents" in keys and f"{P}.half_not_half" in keys


def test_a_year_past_the_calendar_data_warns_that_working_days_are_estimates():
    draft = roll_forward(packaged_years()[0], 2027)
    assert check_year(draft) == []
    (warning,) = calendar_warnings(draft)
    assert warning.key == f"{P}.calendar_estimate"
    assert dict(warning.values) == {"years": "2027、2028", "last": 2026}
    assert "只按周一至周五估算" in warning.text
    assert calendar_warnings(roll_forward(packaged_years()[0], 2025)) == []


def test_publishing_refuses_a_draft_with_unconfirmed_figures():
    draft = roll_forward(packaged_years()[0], 2024)
    (problem,) = publish_problems(draft)
    assert problem.key == f"{P}.unreviewed"
    assert dict(problem.values)["count"] == len(draft["review"])
    assert "还是草稿" in problem.text and "coverage.start" in problem.text
    confirmed = {**draft, "review": []}
    assert publish_problems(confirmed) == []
    broken = {**confirmed, "payment": {**draft["payment"], "account": "x"}}
    assert [p.key for p in publish_problems(broken)] == [f"{P}.account_format"]
