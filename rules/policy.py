"""Policy-year data: one validated YAML file per year, packaged in ``rules/data/years`` or
added by operators (read by the channels' bootstrap from HUBAO_POLICY_DIR and handed in
with :func:`install_years`; rules do no file I/O of their own beyond packaged data).

Only published years are ever used: a draft (``status: draft``, from ``hubao policy new``)
is listed for the operators' commands but never answers a date."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rules.datafile import parse_yaml
from rules.errors import NoPolicyData
from rules.fmt import cn_date

PlanCode = str
Series = Literal["A", "B", "C"]


class PricingTier(StrEnum):
    FULL_YEAR = "full_year"
    HALF_YEAR = "half_year"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Coverage(_Frozen):
    start: dt.date
    end: dt.date


class Window(_Frozen):
    open: dt.date
    close: dt.date


class Windows(_Frozen):
    centralized: Window
    instant_open: dt.date


class PriceTier(_Frozen):
    tier: PricingTier
    start_from: dt.date
    start_to: dt.date
    trio_discount: Decimal
    prices: dict[PlanCode, Decimal]

    def covers(self, start: dt.date) -> bool:
        return self.start_from <= start <= self.start_to


class SeriesInfo(_Frozen):
    name: str
    waiting_days: int = Field(ge=0)
    waiting_note: str = ""


class Plan(_Frozen):
    code: PlanCode
    name: str
    series: Series
    tier: Literal["basic", "enhanced"]
    zhibao_only: bool = False
    benefits: str

    @property
    def is_basic(self) -> bool:
        return self.tier == "basic"


class AgeLimits(_Frozen):
    female: int
    male: int


class RosterLimits(_Frozen):
    max_rows_per_file: int
    change_tolerance: Decimal
    si_ratio_min: Decimal
    si_ratio_max: Decimal
    small_unit_max_people: int


class ReviewDays(_Frozen):
    enrollment_code: int
    attachments: int
    voucher: int
    account_recovery_min: int
    account_recovery_max: int


class Payment(_Frozen):
    transfer_within_days: int
    payee: str
    account: str
    bank: str


class Contacts(_Frozen):
    hotline: str
    platform_url: str
    recovery_email: str
    service_email: str
    fax: str
    reset_password: str
    counter: str


Status = Literal["draft", "published"]


class PolicyYear(_Frozen):
    """Everything the rules need to know about one policy year."""

    year: int
    status: Status = "published"
    review: tuple[str, ...] = ()
    """Dotted paths of figures copied from an earlier year that nobody has confirmed yet
    (e.g. "pricing.0.prices.A0"); a year cannot be published while any remain."""
    published_by: str | None = None
    published_at: dt.datetime | None = None
    handbook_revision: dt.date
    coverage: Coverage
    windows: Windows
    pricing: tuple[PriceTier, ...]
    trio: tuple[PlanCode, ...]
    series: dict[Series, SeriesInfo]
    plans: tuple[Plan, ...]
    age_limits: AgeLimits
    roster: RosterLimits
    review_working_days: ReviewDays
    payment: Payment
    contacts: Contacts

    @model_validator(mode="after")
    def _consistent(self) -> PolicyYear:
        codes = [p.code for p in self.plans]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate plan codes")
        for tier in self.pricing:
            if set(tier.prices) != set(codes):
                raise ValueError(f"tier {tier.tier} must price exactly the plans {codes}")
        if not set(self.trio) <= set(codes):
            raise ValueError("trio names unknown plans")
        tiers = sorted(self.pricing, key=lambda t: t.start_from)
        if tiers[0].start_from != self.coverage.start or tiers[-1].start_to != self.coverage.end:
            raise ValueError("price tiers must span the coverage period")
        for before, after in itertools.pairwise(tiers):
            if after.start_from != before.start_to + dt.timedelta(days=1):
                raise ValueError("price tiers must be contiguous")
        return self

    def plan(self, code: PlanCode) -> Plan:
        for p in self.plans:
            if p.code == code:
                return p
        raise KeyError(code)

    @property
    def plan_codes(self) -> tuple[PlanCode, ...]:
        return tuple(p.code for p in self.plans)

    def price_tier(self, start: dt.date) -> PriceTier:
        """The price tier for a coverage start date inside this year."""
        for tier in self.pricing:
            if tier.covers(start):
                return tier
        raise NoPolicyData("rules.error.no_price_tier", day=cn_date(start), year=self.year)

    def covers(self, day: dt.date) -> bool:
        return self.coverage.start <= day <= self.coverage.end


def _parse(text: str) -> PolicyYear:
    return PolicyYear.model_validate(parse_yaml(text))


@cache
def packaged_years() -> tuple[PolicyYear, ...]:
    """The policy years shipped in the package, oldest first."""
    files = resources.files("rules").joinpath("data", "years")
    years = [
        _parse(f.read_text(encoding="utf-8")) for f in files.iterdir() if f.name.endswith(".yaml")
    ]
    return tuple(sorted(years, key=lambda y: y.year))


_installed: dict[int, PolicyYear] = {}


def install_years(years: Iterable[PolicyYear]) -> None:
    """Use the operators' years (drafts included: they are listed, never used) beside the
    packaged ones; a year given here replaces a packaged year of the same number. Replaces
    whatever was installed before."""
    _installed.clear()
    _installed.update({y.year: y for y in years})
    policy_years.cache_clear()


def known_years(include_drafts: bool = False) -> tuple[PolicyYear, ...]:
    """Packaged years, each replaced by an installed one of the same number; oldest first."""
    # A draft never displaces a year in force: it is only listed beside it.
    merged = {y.year: y for y in packaged_years()}
    merged |= {y.year: y for y in _installed.values() if y.status == "published"}
    years = list(merged.values())
    if include_drafts:
        years += [y for y in _installed.values() if y.status == "draft"]
    return tuple(sorted(years, key=lambda y: (y.year, y.status != "draft")))


@cache
def policy_years() -> tuple[PolicyYear, ...]:
    """The published policy years that answer dates, oldest first."""
    return known_years()


def latest_policy_year(years: Iterable[PolicyYear] | None = None) -> PolicyYear:
    """The newest policy year the data knows."""
    return max(years if years is not None else policy_years(), key=lambda y: y.year)


def policy_for_coverage_date(day: dt.date) -> PolicyYear:
    """The policy year whose coverage period contains ``day``."""
    for year in policy_years():
        if year.covers(day):
            return year
    periods = [(cn_date(y.coverage.start), cn_date(y.coverage.end)) for y in policy_years()]
    raise NoPolicyData("rules.error.no_policy_year", day=cn_date(day), periods=periods)


def policy_for_enrollment_date(day: dt.date) -> PolicyYear:
    """The policy year a unit enrolls into when it acts on ``day``.

    The centralized window lies before coverage begins, so it belongs to the coming year.
    """
    for year in policy_years():
        if year.windows.centralized.open <= day <= year.coverage.end:
            return year
    return policy_for_coverage_date(day)


def policy_in_force(day: dt.date) -> PolicyYear | None:
    """The year a unit acting on ``day`` enrolls into, whose figures answers use; None where
    the data has no year for ``day`` (callers then use the newest year's figures)."""
    try:
        return policy_for_enrollment_date(day)
    except NoPolicyData:
        return None
