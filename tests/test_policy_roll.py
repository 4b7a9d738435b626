"""Rolling 2023 forward: a draft of a later year that an operator reviews before publishing."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from rules.datafile import parse_yaml
from rules.policy import PolicyYear, packaged_years
from rules.policy_check import check_year
from rules.policy_roll import roll_forward, shift_years, working_day

SOURCE = packaged_years()[0]


def _draft(year: int) -> PolicyYear:
    text = yaml.safe_dump(roll_forward(SOURCE, year), allow_unicode=True, sort_keys=False)
    return PolicyYear.model_validate(parse_yaml(text))


@pytest.mark.parametrize("year", [2024, 2027])
def test_a_draft_moves_every_date_and_copies_every_figure(year):
    draft = _draft(year)
    offset = year - SOURCE.year
    assert draft.year == year
    assert draft.status == "draft"
    assert draft.coverage.start == dt.date(year, 7, 1)
    assert draft.coverage.end == dt.date(year + 1, 6, 30)
    assert draft.windows.centralized.open == SOURCE.windows.centralized.open.replace(year=year)
    assert draft.windows.centralized.close == dt.date(year, 6, 30)
    assert draft.windows.instant_open == dt.date(year, 7, 1)
    full, half = draft.pricing
    assert (full.start_from, full.start_to) == (dt.date(year, 7, 1), dt.date(year, 12, 31))
    assert (half.start_from, half.start_to) == (dt.date(year + 1, 1, 1), dt.date(year + 1, 6, 30))
    assert [t.prices for t in draft.pricing] == [t.prices for t in SOURCE.pricing]
    assert str(full.prices["A0"]) == "120" and str(half.prices["A1"]) == "67.5"
    assert [t.trio_discount for t in draft.pricing] == [t.trio_discount for t in SOURCE.pricing]
    assert draft.plans == SOURCE.plans and draft.series == SOURCE.series
    assert draft.trio == SOURCE.trio and draft.age_limits == SOURCE.age_limits
    assert draft.roster == SOURCE.roster and draft.payment == SOURCE.payment
    assert draft.contacts == SOURCE.contacts
    assert draft.review_working_days == SOURCE.review_working_days
    # The handbook revision is the source's until the operator enters the new one.
    assert draft.handbook_revision == SOURCE.handbook_revision
    assert draft.published_by is None and offset > 0


@pytest.mark.parametrize("year", [2024, 2027])
def test_every_copied_figure_and_moved_date_is_marked_for_review(year):
    review = set(_draft(year).review)
    for path in (
        "handbook_revision",
        "coverage.start",
        "coverage.end",
        "windows.centralized.open",
        "windows.centralized.close",
        "windows.instant_open",
        "pricing.1.start_from",
        "pricing.0.trio_discount",
        "trio",
        "series.B.waiting_days",
        "plans.0.zhibao_only",
        "plans.11.benefits",
        "age_limits.female",
        "roster.si_ratio_min",
        "review_working_days.voucher",
        "payment.account",
        "payment.transfer_within_days",
        "contacts.hotline",
    ):
        assert path in review
    for i, tier in enumerate(SOURCE.pricing):
        assert {f"pricing.{i}.prices.{code}" for code in tier.prices} <= review


@pytest.mark.parametrize("year", [2024, 2027])
def test_a_draft_passes_the_check(year):
    assert check_year(roll_forward(SOURCE, year)) == []


def test_window_days_on_weekends_are_marked_not_moved():
    # 2024-06-01 is a Saturday and 2024-06-30 a Sunday: the handbook gives calendar days.
    draft = _draft(2024)
    assert draft.windows.centralized.open == dt.date(2024, 6, 1)
    assert "windows.centralized.open:non_working_day" in draft.review
    assert "windows.centralized.close:non_working_day" in draft.review
    assert "windows.instant_open:non_working_day" not in draft.review
    assert not any(r.endswith(":calendar_estimate") for r in draft.review)


def test_dates_past_the_calendar_data_are_marked_as_estimates():
    review = _draft(2027).review
    for path in ("windows.centralized.open", "windows.centralized.close", "coverage.start"):
        assert f"{path}:calendar_estimate" in review
    assert working_day(dt.date(2027, 6, 5)) == (False, True)  # a Saturday, estimated
    assert working_day(dt.date(2027, 6, 7)) == (True, True)
    assert working_day(dt.date(2026, 10, 1)) == (False, False)  # National Day, known


def test_a_draft_only_rolls_forward():
    with pytest.raises(ValueError):
        roll_forward(SOURCE, SOURCE.year)


def test_month_ends_stay_month_ends():
    assert shift_years(dt.date(2023, 2, 28), 1) == dt.date(2024, 2, 29)
    assert shift_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert shift_years(dt.date(2023, 6, 30), 4) == dt.date(2027, 6, 30)
