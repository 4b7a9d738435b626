"""Dates: coverage periods, waiting periods, payment deadlines and review times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import chinese_calendar

from rules.errors import NoPolicyData
from rules.fmt import cn_date
from rules.policy import (
    PolicyYear,
    Series,
    packaged_years,
    policy_for_enrollment_date,
    policy_years,
)
from rules.sentence import CatalogLabels, Sentence

ONE_DAY = dt.timedelta(days=1)


class Mode(StrEnum):
    CENTRALIZED = "centralized"
    INSTANT = "instant"


MODE_LABELS = CatalogLabels("rules.mode", Mode)


@dataclass(frozen=True)
class CoveragePeriod:
    policy_year: int
    mode: Mode
    start: dt.date
    end: dt.date


def mode_on(day: dt.date) -> tuple[PolicyYear, Mode]:
    """Which policy year and enrollment mode a unit acting on ``day`` is in."""
    policy = policy_for_enrollment_date(day)
    window = policy.windows.centralized
    if window.open <= day <= window.close:
        return policy, Mode.CENTRALIZED
    if policy.windows.instant_open <= day <= policy.coverage.end:
        return policy, Mode.INSTANT
    raise NoPolicyData(
        "rules.error.not_enrollment_time", day=cn_date(day), open=cn_date(window.open)
    )


def coverage_period(submitted: dt.date) -> CoveragePeriod:
    """Coverage of a roster formally submitted on ``submitted``.

    In the centralized window coverage starts on the policy year's start; afterwards
    (instant enrollment) it starts the day after submission. Both end with the year.
    """
    policy, mode = mode_on(submitted)
    if mode is Mode.CENTRALIZED:
        return CoveragePeriod(policy.year, mode, policy.coverage.start, policy.coverage.end)
    start = submitted + ONE_DAY
    if start > policy.coverage.end:
        raise NoPolicyData(
            "rules.error.start_after_year",
            submitted=cn_date(submitted),
            start=cn_date(start),
            year=policy.year,
            end=cn_date(policy.coverage.end),
        )
    return CoveragePeriod(policy.year, mode, start, policy.coverage.end)


def submission_for(start: dt.date, today: dt.date) -> dt.date:
    """The day a roster is submitted for coverage to start on ``start``: the day before in
    instant enrollment; for the policy year's own start, a day of the centralized window
    (today if the window is open, else its nearer end)."""
    for policy in policy_years():
        if start == policy.coverage.start:
            window = policy.windows.centralized
            return min(max(today, window.open), window.close)
    return start - ONE_DAY


@dataclass(frozen=True)
class WaitingPeriod:
    series: Series
    series_name: str
    days: int
    covered_from: dt.date
    """First day a claim event is covered; equals the start date when there is no wait."""
    note: str

    @property
    def last_excluded(self) -> dt.date | None:
        return self.covered_from - ONE_DAY if self.days else None


def waiting_periods(period: CoveragePeriod, policy: PolicyYear) -> tuple[WaitingPeriod, ...]:
    """Waiting period of each plan series: none in centralized enrollment.

    With start S and a 30-day period, events on S .. S+29 are excluded, covered from S+30.
    """
    result = []
    for series, info in policy.series.items():
        days = info.waiting_days if period.mode is Mode.INSTANT else 0
        result.append(
            WaitingPeriod(
                series=series,
                series_name=info.name,
                days=days,
                covered_from=period.start + dt.timedelta(days=days),
                note=info.waiting_note if days else "",
            )
        )
    return tuple(result)


def transfer_deadline(submitted: dt.date, policy: PolicyYear) -> dt.date:
    """Last day to transfer the premium: N calendar days after confirming the premium."""
    return submitted + dt.timedelta(days=policy.payment.transfer_within_days)


def calendar_covers(day: dt.date) -> bool:
    """Whether the official holiday calendar (chinesecalendar's data) knows ``day``."""
    try:
        chinese_calendar.is_workday(day)
    except NotImplementedError:
        return False
    return True


def is_working_day(day: dt.date) -> bool:
    """China's official calendar, make-up working days included.

    Past the calendar's data the holidays of that year are not yet announced: the day is
    then estimated by weekends alone (whoever shows such a date says it is an estimate,
    see :func:`working_days_estimated`)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(submitted: dt.date, days: int) -> dt.date:
    """The day a review of ``days`` working days completes when submitted on ``submitted``.

    The submission day itself does not count: one working day after a Friday submission
    is the next Monday, or the next make-up working day.
    """
    if days < 1:
        raise ValueError("days must be positive")
    day = submitted
    remaining = days
    while remaining:
        day += ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_estimated(start: dt.date, end: dt.date) -> int | None:
    """The first year between ``start`` and ``end`` (both included) whose working days the
    official calendar does not know, so dates counted over it are weekend-only estimates;
    None when the calendar covers them all."""
    for year in range(start.year, end.year + 1):
        first = max(start, dt.date(year, 1, 1))
        last = min(end, dt.date(year, 12, 31))
        if not (calendar_covers(first) and calendar_covers(last)):
            return year
    return None


def estimate_notice(start: dt.date, end: dt.date) -> Sentence | None:
    """The notice a date counted in working days from ``start`` to ``end`` needs when the
    official calendar does not cover it (None when it does)."""
    year = working_days_estimated(start, end)
    return None if year is None else Sentence.of("rules.year.calendar_estimate", year=year)


def year_named(policy: PolicyYear) -> Sentence | None:
    """ "2024年度：", said before an answer's dates when they come from a year the operators
    installed (a new year or a packaged one replaced), so the handler knows which data
    answered; None for the packaged years, whose answers read as they always have."""
    if any(policy is packaged for packaged in packaged_years()):
        return None
    return Sentence.of("rules.year.in_force", year=policy.year)
