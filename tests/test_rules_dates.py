"""保障期限, 免责期, 转账期限, and review times in Chinese working days."""

import datetime as dt

import pytest

from rules.dates import (
    Mode,
    add_working_days,
    calendar_covers,
    coverage_period,
    estimate_notice,
    mode_on,
    transfer_deadline,
    waiting_periods,
    working_days_estimated,
)
from rules.errors import NoPolicyData
from rules.policy import latest_policy_year

POLICY = latest_policy_year()


def test_centralized_submission_is_covered_for_the_whole_year():
    period = coverage_period(dt.date(2023, 6, 20))
    assert period.mode is Mode.CENTRALIZED
    assert (period.start, period.end) == (dt.date(2023, 7, 1), dt.date(2024, 6, 30))


def test_instant_coverage_starts_the_day_after_submission():
    period = coverage_period(dt.date(2023, 7, 15))
    assert period.mode is Mode.INSTANT
    assert (period.start, period.end) == (dt.date(2023, 7, 16), dt.date(2024, 6, 30))


def test_before_the_centralized_window_there_is_nothing_to_enroll_in():
    with pytest.raises(NoPolicyData):
        mode_on(dt.date(2023, 5, 31))


def test_submission_on_the_last_day_starts_outside_the_year():
    with pytest.raises(NoPolicyData):
        coverage_period(dt.date(2024, 6, 30))


def test_centralized_enrollment_has_no_waiting_period():
    periods = waiting_periods(coverage_period(dt.date(2023, 6, 20)), POLICY)
    assert all(w.days == 0 and w.covered_from == dt.date(2023, 7, 1) for w in periods)


def test_instant_waiting_periods_30_60_and_none():
    periods = {w.series: w for w in waiting_periods(coverage_period(dt.date(2023, 8, 14)), POLICY)}
    # Start 2023-08-15: A excluded 08-15..09-13, covered from 09-14; B from 10-14; C at once.
    assert periods["A"].covered_from == dt.date(2023, 9, 14)
    assert periods["A"].last_excluded == dt.date(2023, 9, 13)
    assert "意外" in periods["A"].note
    assert periods["B"].covered_from == dt.date(2023, 10, 14)
    assert periods["C"].covered_from == dt.date(2023, 8, 15)
    assert periods["C"].last_excluded is None


def test_premium_transfer_within_15_days_of_submission():
    assert transfer_deadline(dt.date(2023, 6, 20), POLICY) == dt.date(2023, 7, 5)


@pytest.mark.parametrize(
    ("submitted", "days", "done"),
    [
        (dt.date(2023, 6, 19), 1, dt.date(2023, 6, 20)),  # Monday -> Tuesday
        (dt.date(2023, 6, 16), 1, dt.date(2023, 6, 19)),  # Friday -> Monday
        # Dragon Boat 2023: 06-22..06-24 off, Sunday 06-25 is a make-up working day.
        (dt.date(2023, 6, 21), 1, dt.date(2023, 6, 25)),
        # National Day 2023: 09-29..10-06 off, Saturday 10-07 and Sunday 10-08 make-up days.
        (dt.date(2023, 9, 28), 1, dt.date(2023, 10, 7)),
        (dt.date(2023, 9, 28), 2, dt.date(2023, 10, 8)),
        # Spring Festival 2024: 02-10..02-17 off, Sunday 02-04 and 02-18 make-up days.
        (dt.date(2024, 2, 2), 1, dt.date(2024, 2, 4)),
        (dt.date(2024, 2, 9), 1, dt.date(2024, 2, 18)),
        (dt.date(2024, 2, 9), 2, dt.date(2024, 2, 19)),
    ],
)
def test_review_completes_after_working_days_counting_make_up_days(submitted, days, done):
    assert add_working_days(submitted, days) == done


def test_past_the_official_calendar_working_days_are_estimated_by_weekends_with_a_notice():
    # chinesecalendar's data ends with 2026: 2027's holidays are not announced yet.
    assert calendar_covers(dt.date(2026, 12, 31))
    assert not calendar_covers(dt.date(2027, 1, 1))
    # Thursday 2026-12-31 + 1 working day: Friday 2027-01-01, a holiday nobody announced yet.
    assert add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 1)
    # Friday 2027-01-08 + 1: the weekend is skipped, Monday 2027-01-11.
    assert add_working_days(dt.date(2027, 1, 8), 1) == dt.date(2027, 1, 11)
    assert working_days_estimated(dt.date(2026, 12, 31), dt.date(2027, 1, 1)) == 2027
    notice = estimate_notice(dt.date(2026, 12, 31), dt.date(2027, 1, 1))
    assert notice is not None
    assert "2027年的法定节假日安排还没有收录" in notice.text and "只按周末推算" in notice.text


def test_dates_the_calendar_covers_need_no_notice():
    assert working_days_estimated(dt.date(2023, 6, 19), dt.date(2024, 2, 19)) is None
    assert estimate_notice(dt.date(2026, 12, 1), dt.date(2026, 12, 31)) is None
