"""Checking a policy year before it is published (``hubao policy check`` / ``publish``).

Three functions, all on the raw YAML mapping (a broken year may not validate):

- :func:`check_year`: the *errors*, each a catalog sentence (``rules.policy_check.*``) that
  says in Chinese what is wrong and where. Empty means the figures hang together; a draft
  with review marks is not an error here.
- :func:`calendar_warnings`: *warnings* that do not stop publishing: dates the year needs
  lie past the end of China's working-day calendar (chinesecalendar), so working-day dates
  in them are estimates that count weekends only.
- :func:`publish_problems`: what stops publishing: the errors, plus "still a draft" while
  ``review`` lists figures nobody confirmed.

A year that does not even validate gets one sentence per broken field and nothing more:
the consistency checks need the fields they compare."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, get_args

from pydantic import ValidationError

from rules.fmt import cn_date, yuan
from rules.policy import PolicyYear, PriceTier, PricingTier, Series
from rules.policy_roll import working_day
from rules.sentence import Sentence

P = "rules.policy_check"
SERIES: tuple[str, ...] = get_args(Series)
AGE_RANGE = (16, 100)
ACCOUNT_LENGTH = (10, 25)
CENT = Decimal("0.01")
# How many unconfirmed paths the "still a draft" sentence names before "and N more".
SHOWN_REVIEW = 8

# Pydantic's error types, by the catalog sentence that explains them.
_FIELD_ERRORS = {
    "missing": ("missing",),
    "unknown": ("extra_forbidden",),
    "not_date": ("date_parsing", "date_type", "date_from_datetime_parsing"),
    "not_number": ("decimal_parsing", "decimal_type", "finite_number", "decimal_max_places"),
    "not_integer": ("int_parsing", "int_type", "int_from_float", "int_parsing_size"),
    "not_text": ("string_type",),
    "not_yes_no": ("bool_parsing", "bool_type"),
    "not_allowed": ("literal_error", "enum"),
    "too_small": ("greater_than_equal", "greater_than"),
    "wrong_shape": ("dict_type", "model_type", "tuple_type", "list_type", "model_attributes_type"),
}
_FIELD_KEY = {kind: key for key, kinds in _FIELD_ERRORS.items() for kind in kinds}


class _Loose(PolicyYear):
    """The fields of a policy year without its consistency validator: the checks below
    say each inconsistency in words instead of one English ValueError."""

    def _consistent(self) -> _Loose:  # type: ignore[override]  # replaces the validator
        return self


def check_year(data: Mapping[str, Any]) -> list[Sentence]:
    """Every problem of a year's data (as read from its YAML file), each a catalog sentence
    that explains it in Chinese; empty when the year can be published."""
    if not isinstance(data, Mapping):
        return [Sentence.of(f"{P}.not_mapping")]
    try:
        year = _Loose.model_validate(dict(data))
    except ValidationError as exc:
        return [_field_sentence(err) for err in exc.errors()]
    problems = [
        *_dates(year),
        *_tiers(year),
        *_prices(year),
        *_plans(year),
        *_limits(year),
        *_account(year),
    ]
    if not problems:
        # The model's own validator has the last word on anything these checks missed.
        try:
            PolicyYear.model_validate(dict(data))
        except ValidationError:
            problems.append(Sentence.of(f"{P}.inconsistent"))
    return problems


def calendar_warnings(data: Mapping[str, Any]) -> list[Sentence]:
    """Warnings (not errors): years the policy year's dates reach that China's working-day
    calendar has no data for; working days there are counted on weekends only."""
    try:
        year = _Loose.model_validate(dict(data))
    except (ValidationError, TypeError, ValueError):
        return []
    first = min(year.windows.centralized.open, year.coverage.start).year
    missing = [y for y in range(first, year.coverage.end.year + 1) if not calendar_has(y)]
    if not missing:
        return []
    return [
        Sentence.of(
            f"{P}.calendar_estimate",
            years="、".join(str(y) for y in missing),
            last=last_calendar_year(),
        )
    ]


def publish_problems(data: Mapping[str, Any]) -> list[Sentence]:
    """What stops ``data`` being published: its errors, and review marks still open."""
    problems = check_year(data)
    review = data.get("review") if isinstance(data, Mapping) else None
    if isinstance(review, list | tuple) and review:
        shown = [str(r) for r in review[:SHOWN_REVIEW]]
        problems.append(
            Sentence.of(
                f"{P}.unreviewed",
                count=len(review),
                paths="、".join(shown),
                more=len(review) - len(shown),
            )
        )
    return problems


def calendar_has(year: int) -> bool:
    """Whether China's working-day calendar has data for ``year``."""
    return not working_day(dt.date(year, 1, 1))[1]


@cache
def last_calendar_year() -> int:
    """The last year of China's working-day calendar data (2026 for chinesecalendar 1.11)."""
    # Walk from this year up while the data lasts, or down until it starts.
    year = dt.date.today().year
    if calendar_has(year):
        while calendar_has(year + 1):
            year += 1
        return year
    while not calendar_has(year):
        year -= 1
    return year


# --- field errors -------------------------------------------------------------------------


def _field_sentence(err: Mapping[str, Any]) -> Sentence:
    loc = [str(part) for part in err["loc"]]
    field = ".".join(loc) or "-"
    key = _FIELD_KEY.get(err["type"], "invalid")
    ctx = err.get("ctx") or {}
    return Sentence.of(
        f"{P}.field.{key}",
        field=field,
        section=_section(loc[0] if loc else ""),
        value=_shown(err.get("input")),
        expected=str(ctx.get("expected", ctx.get("ge", ctx.get("gt", "")))),
    )


def _section(name: str) -> Sentence:
    known = set(PolicyYear.model_fields)
    return Sentence.of(f"{P}.section.{name if name in known else 'other'}")


def _shown(value: Any) -> str:
    text = "" if value is None or isinstance(value, Mapping | list) else str(value)
    return text if len(text) <= 30 else text[:30] + "…"


# --- dates ----------------------------------------------------------------------------------


def _dates(y: _Loose) -> Iterator[Sentence]:
    start, end = y.coverage.start, y.coverage.end
    if start.year != y.year:
        yield Sentence.of(f"{P}.year_mismatch", year=y.year, start=cn_date(start))
    expected = _year_later(start) - dt.timedelta(days=1)
    if end != expected:
        yield Sentence.of(
            f"{P}.coverage_not_12_months",
            start=cn_date(start),
            end=cn_date(end),
            expected=cn_date(expected),
        )
    window = y.windows.centralized
    if window.open > window.close:
        yield Sentence.of(
            f"{P}.window_order", open=cn_date(window.open), close=cn_date(window.close)
        )
    if window.close >= start:
        yield Sentence.of(
            f"{P}.window_after_coverage", close=cn_date(window.close), start=cn_date(start)
        )
    if window.open.year != y.year:
        yield Sentence.of(f"{P}.window_outside_year", open=cn_date(window.open), year=y.year)
    instant = y.windows.instant_open
    if not start <= instant <= end:
        yield Sentence.of(
            f"{P}.instant_outside_coverage",
            day=cn_date(instant),
            start=cn_date(start),
            end=cn_date(end),
        )


def _year_later(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return dt.date(day.year + 1, 3, 1)


def _tiers(y: _Loose) -> Iterator[Sentence]:
    if not y.pricing:
        yield Sentence.of(f"{P}.no_tiers")
        return
    kinds = [t.tier for t in y.pricing]
    for kind in PricingTier:
        if kinds.count(kind) > 1:
            yield Sentence.of(f"{P}.tier_repeated", tier=_tier(kind))
    if PricingTier.FULL_YEAR not in kinds:
        yield Sentence.of(f"{P}.tier_missing", tier=_tier(PricingTier.FULL_YEAR))
    for t in y.pricing:
        if t.start_from > t.start_to:
            yield Sentence.of(
                f"{P}.tier_order",
                tier=_tier(t.tier),
                start=cn_date(t.start_from),
                end=cn_date(t.start_to),
            )
    tiers = sorted(y.pricing, key=lambda t: t.start_from)
    if tiers[0].start_from != y.coverage.start:
        yield Sentence.of(
            f"{P}.tier_start",
            tier=_tier(tiers[0].tier),
            day=cn_date(tiers[0].start_from),
            start=cn_date(y.coverage.start),
        )
    if tiers[-1].start_to != y.coverage.end:
        yield Sentence.of(
            f"{P}.tier_end",
            tier=_tier(tiers[-1].tier),
            day=cn_date(tiers[-1].start_to),
            end=cn_date(y.coverage.end),
        )
    for before, after in itertools.pairwise(tiers):
        if after.start_from != before.start_to + dt.timedelta(days=1):
            yield Sentence.of(
                f"{P}.tier_gap",
                before=_tier(before.tier),
                after=_tier(after.tier),
                end=cn_date(before.start_to),
                start=cn_date(after.start_from),
            )
    order = [t.tier for t in tiers]
    both = PricingTier.HALF_YEAR in order and PricingTier.FULL_YEAR in order
    if both and order.index(PricingTier.HALF_YEAR) < order.index(PricingTier.FULL_YEAR):
        yield Sentence.of(f"{P}.half_before_full")


def _tier(kind: PricingTier) -> Sentence:
    return Sentence.of(f"label.tier.{kind.value}")


# --- prices ---------------------------------------------------------------------------------


def _prices(y: _Loose) -> Iterator[Sentence]:
    codes = [p.code for p in y.plans]
    for t in y.pricing:
        for code in codes:
            if code not in t.prices:
                yield Sentence.of(f"{P}.price_missing", tier=_tier(t.tier), code=code)
        for code, price in t.prices.items():
            if code not in codes:
                yield Sentence.of(f"{P}.price_unknown_plan", tier=_tier(t.tier), code=code)
            elif price <= 0:
                yield Sentence.of(
                    f"{P}.price_not_positive", tier=_tier(t.tier), code=code, price=f"{price:f}"
                )
            elif price != price.quantize(CENT):
                yield Sentence.of(
                    f"{P}.price_not_cents", tier=_tier(t.tier), code=code, price=f"{price:f}"
                )
        yield from _trio_discount(y, t)
    full = _only(y, PricingTier.FULL_YEAR)
    half = _only(y, PricingTier.HALF_YEAR)
    if full and half:
        for code in codes:
            priced = code in full.prices and code in half.prices
            if priced and half.prices[code] * 2 != full.prices[code]:
                yield Sentence.of(
                    f"{P}.half_not_half",
                    code=code,
                    full=yuan(full.prices[code]),
                    half=f"{half.prices[code]:f}",
                    expected=f"{full.prices[code] / 2:f}",
                )


def _only(y: _Loose, kind: PricingTier) -> PriceTier | None:
    found = [t for t in y.pricing if t.tier is kind]
    return found[0] if len(found) == 1 else None


def _trio_discount(y: _Loose, t: PriceTier) -> Iterator[Sentence]:
    discount, tier = t.trio_discount, _tier(t.tier)
    if discount < 0:
        yield Sentence.of(f"{P}.trio_discount_negative", tier=tier, discount=f"{discount:f}")
    elif discount != discount.quantize(CENT):
        yield Sentence.of(f"{P}.trio_discount_not_cents", tier=tier, discount=f"{discount:f}")
    # The handbook gives the trio discount at full-year pricing only.
    if t.tier is PricingTier.HALF_YEAR and discount != 0:
        yield Sentence.of(f"{P}.half_trio_discount", discount=yuan(discount))
    if all(code in t.prices for code in y.trio) and y.trio:
        total = sum((t.prices[code] for code in y.trio), Decimal(0))
        if discount >= total:
            yield Sentence.of(
                f"{P}.trio_discount_too_big", tier=tier, discount=yuan(discount), total=yuan(total)
            )


# --- plans and series -----------------------------------------------------------------------


def _plans(y: _Loose) -> Iterator[Sentence]:
    codes = [p.code for p in y.plans]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        yield Sentence.of(f"{P}.plan_repeated", code=code)
    for series in SERIES:
        if series not in y.series:
            yield Sentence.of(f"{P}.series_missing", series=series)
        elif not any(p.series == series and p.is_basic for p in y.plans):
            yield Sentence.of(f"{P}.series_no_basic", series=series)
    for p in y.plans:
        if p.series not in y.series:
            yield Sentence.of(f"{P}.plan_series_unknown", code=p.code, series=p.series)
        if not p.code.startswith(p.series):
            yield Sentence.of(f"{P}.plan_code_series", code=p.code, series=p.series)
    if not y.trio:
        yield Sentence.of(f"{P}.trio_empty")
    trio_series = []
    for code in y.trio:
        plan = next((p for p in y.plans if p.code == code), None)
        if plan is None:
            yield Sentence.of(f"{P}.trio_unknown", code=code)
        elif not plan.is_basic:
            yield Sentence.of(f"{P}.trio_not_basic", code=code)
        else:
            trio_series.append(plan.series)
    for series in sorted({s for s in trio_series if trio_series.count(s) > 1}):
        yield Sentence.of(f"{P}.trio_series_repeated", series=series)


# --- limits and account ---------------------------------------------------------------------


def _limits(y: _Loose) -> Iterator[Sentence]:
    low, high = AGE_RANGE
    for field, age in (("female", y.age_limits.female), ("male", y.age_limits.male)):
        if not low <= age <= high:
            yield Sentence.of(
                f"{P}.age_out_of_range", field=f"age_limits.{field}", value=age, low=low, high=high
            )
    r = y.roster
    if not 0 < r.si_ratio_min < r.si_ratio_max:
        yield Sentence.of(
            f"{P}.ratio_order", low=f"{r.si_ratio_min:f}", high=f"{r.si_ratio_max:f}"
        )
    if not 0 <= r.change_tolerance < 1:
        yield Sentence.of(f"{P}.tolerance_out_of_range", value=f"{r.change_tolerance:f}")
    days = y.review_working_days
    counts = {
        "roster.max_rows_per_file": r.max_rows_per_file,
        "roster.small_unit_max_people": r.small_unit_max_people,
        "payment.transfer_within_days": y.payment.transfer_within_days,
        **{f"review_working_days.{k}": v for k, v in days.model_dump().items()},
    }
    for field, value in counts.items():
        if value <= 0:
            yield Sentence.of(f"{P}.not_positive", field=field, value=value)
    if days.account_recovery_min > days.account_recovery_max:
        yield Sentence.of(
            f"{P}.recovery_order", low=days.account_recovery_min, high=days.account_recovery_max
        )


def _account(y: _Loose) -> Iterator[Sentence]:
    account = y.payment.account
    low, high = ACCOUNT_LENGTH
    if not (account.isascii() and account.isdigit() and low <= len(account) <= high):
        yield Sentence.of(f"{P}.account_format", account=_shown(account), low=low, high=high)
