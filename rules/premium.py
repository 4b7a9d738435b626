"""Premiums: per person by category and coverage start date, and a unit's quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from rules.errors import RulesError
from rules.people import CATEGORY_LABELS, Category
from rules.plans import Refusal, check_selection
from rules.policy import PlanCode, PolicyYear, PricingTier, policy_for_coverage_date

QUOTABLE = (Category.ZHIBAO, Category.NON_ZHIBAO)


class SelectionRefused(RulesError):
    """The plan selection breaks the program's rules; ``refusals`` says every reason."""

    code = "selection_refused"

    def __init__(self, refusals: tuple[Refusal, ...]) -> None:
        super().__init__("rules.selection_refused", reasons=[r.message for r in refusals])
        self.refusals = refusals


@dataclass(frozen=True)
class PersonPremium:
    """What one person of a category pays for the unit's plans."""

    category: Category
    tier: PricingTier
    prices: tuple[tuple[PlanCode, Decimal], ...]
    dropped: tuple[PlanCode, ...]
    """Selected plans this person cannot join (A0 for people not in 职保)."""
    discount: Decimal

    @property
    def plans(self) -> tuple[PlanCode, ...]:
        return tuple(code for code, _ in self.prices)

    @property
    def enrollable(self) -> bool:
        """False when the selected plans come down to nothing for this person."""
        return bool(self.prices)

    @property
    def total(self) -> Decimal:
        return sum((p for _, p in self.prices), Decimal(0)) - self.discount


def person_premium(
    plans: Iterable[PlanCode], category: Category, start: dt.date, policy: PolicyYear
) -> PersonPremium:
    """Premium of one person of ``category`` for already accepted ``plans``.

    The basic-trio discount applies only when this person actually gets all three basic
    plans and the start date falls in a tier that grants it (not the half-year tier).
    """
    if category not in QUOTABLE:
        raise ValueError(f"{category} cannot be quoted")
    tier = policy.price_tier(start)
    chosen = [policy.plan(c) for c in plans]
    allowed = [p for p in chosen if not (p.zhibao_only and category is not Category.ZHIBAO)]
    dropped = tuple(p.code for p in chosen if p not in allowed)
    prices = tuple((p.code, tier.prices[p.code]) for p in allowed)
    has_trio = set(policy.trio) <= {p.code for p in allowed}
    return PersonPremium(
        category=category,
        tier=tier.tier,
        prices=prices,
        dropped=dropped,
        discount=tier.trio_discount if has_trio else Decimal(0),
    )


@dataclass(frozen=True)
class QuoteLine:
    category: Category
    plan: PlanCode
    price: Decimal
    people: int

    @property
    def amount(self) -> Decimal:
        return self.price * self.people


@dataclass(frozen=True)
class CategoryQuote:
    category: Category
    people: int
    person: PersonPremium

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def lines(self) -> tuple[QuoteLine, ...]:
        return tuple(
            QuoteLine(self.category, code, price, self.people)
            for code, price in self.person.prices
        )

    @property
    def discount_total(self) -> Decimal:
        return self.person.discount * self.people

    @property
    def subtotal(self) -> Decimal:
        return self.person.total * self.people


@dataclass(frozen=True)
class UnitQuote:
    """A unit's premium: line items and subtotal per category, and the total."""

    policy_year: int
    start: dt.date
    tier: PricingTier
    plans: tuple[PlanCode, ...]
    categories: tuple[CategoryQuote, ...]
    """Categories with people whose plans leave something to pay."""
    not_enrollable: tuple[CategoryQuote, ...]
    """Categories with people for whom the selected plans come down to nothing."""

    @property
    def total(self) -> Decimal:
        return sum((c.subtotal for c in self.categories), Decimal(0))

    @property
    def discount_total(self) -> Decimal:
        return sum((c.discount_total for c in self.categories), Decimal(0))

    def per_person(self, category: Category) -> Decimal | None:
        for c in self.categories:
            if c.category is category:
                return c.person.total
        return None


def quote_unit(
    plans: Iterable[PlanCode],
    start: dt.date,
    people: Mapping[Category, int],
    centralized_plans: Iterable[PlanCode] | None = None,
) -> UnitQuote:
    """Quote a unit's batch: ``people`` counts per quotable category.

    Raises ``SelectionRefused`` for a selection the rules refuse and ``NoPolicyData`` for a
    start date outside every known policy year.
    """
    policy = policy_for_coverage_date(start)
    check = check_selection(plans, policy, centralized_plans)
    if not check.accepted:
        raise SelectionRefused(check.refusals)
    for category, count in people.items():
        if category not in QUOTABLE:
            raise ValueError(f"{category} cannot be quoted")
        if count < 0:
            raise ValueError("people counts cannot be negative")
    quoted = [
        CategoryQuote(
            category, people[category], person_premium(check.plans, category, start, policy)
        )
        for category in QUOTABLE
        if people.get(category, 0) > 0
    ]
    return UnitQuote(
        policy_year=policy.year,
        start=start,
        tier=policy.price_tier(start).tier,
        plans=check.plans,
        categories=tuple(c for c in quoted if c.person.enrollable),
        not_enrollable=tuple(c for c in quoted if not c.person.enrollable),
    )
