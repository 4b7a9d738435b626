"""A unit quote as the Chinese text and JSON a user or a hotline agent reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules.catalog import say
from rules.fmt import cn_date, yuan
from rules.people import Category
from rules.plans import Refusal
from rules.policy import PricingTier, policy_for_coverage_date
from rules.premium import UnitQuote


def refusal_text(refusals: Sequence[Refusal]) -> str:
    """Why a plan selection is refused: every reason, one a line."""
    return "\n".join([say("plans_refused"), *(f"· {r.message}" for r in refusals)])


def render_quote(quote: UnitQuote) -> str:
    """The quote as a short table per category, the discount, the total and the tier."""
    policy = policy_for_coverage_date(quote.start)

    def part(key: str, **values: Any) -> str:
        return say(f"flows.quote_{key}", policy=policy, **values)

    tier = say(f"label.tier.{quote.tier.value}", policy=policy)
    start = cn_date(quote.start)
    out = [part("head", year=quote.policy_year, start=start, tier=tier, plans=quote.plans)]
    for cat in quote.categories:
        out += ["", part("category", label=cat.label, people=cat.people), part("table_head")]
        for line in cat.lines:
            out.append(
                f"{line.plan:<6}{yuan(line.price):>9}{line.people:>6}{yuan(line.amount):>12}"
            )
        if cat.person.discount:
            each, total = yuan(cat.person.discount), yuan(cat.discount_total)
            out.append(part("discount", trio=policy.trio, each=each, total=total))
        for code in cat.person.dropped:
            out.append(part("dropped", code=code, people=cat.people))
        if cat.category is Category.NON_ZHIBAO and any(
            policy.plan(c).series == "A" and not policy.plan(c).is_basic for c in cat.person.plans
        ):
            enhanced_a = [p.code for p in policy.plans if p.series == "A" and not p.is_basic]
            out.append(part("no_subsidy", plans=enhanced_a))
        out.append(part("subtotal", subtotal=yuan(cat.subtotal), each=yuan(cat.person.total)))
    open_basics = [p.code for p in policy.plans if p.is_basic and not p.zhibao_only]
    for cat in quote.not_enrollable:
        out.append("")
        out.append(
            part(
                "not_enrollable",
                label=cat.label,
                people=cat.people,
                dropped=cat.person.dropped,
                open=open_basics,
            )
        )
    out.append("")
    out.append(part("total", total=yuan(quote.total)) if quote.categories else part("nobody"))
    if quote.tier is PricingTier.HALF_YEAR and quote.plans:
        out.append(part("half_year", day=cn_date(policy.price_tier(quote.start).start_from)))
    out.append(part("disclaimer"))
    return "\n".join(out)


def quote_json(quote: UnitQuote) -> dict[str, Any]:
    """Machine-readable quote: figures as numbers in yuan."""

    def num(value: Any) -> float:
        return float(value)

    zhibao = quote.per_person(Category.ZHIBAO)
    non = quote.per_person(Category.NON_ZHIBAO)
    return {
        "policy_year": quote.policy_year,
        "start": quote.start.isoformat(),
        "plans": list(quote.plans),
        "pricing": quote.tier.value,
        "total": num(quote.total),
        "discount_total": num(quote.discount_total),
        "per_person": None if zhibao is None else num(zhibao),
        "per_person_non_zhibao": None if non is None else num(non),
        "lines": [
            {
                "category": line.category.value,
                "plan": line.plan,
                "price": num(line.price),
                "people": line.people,
                "amount": num(line.amount),
            }
            for cat in quote.categories
            for line in cat.lines
        ],
        "subtotals": {cat.category.value: num(cat.subtotal) for cat in quote.categories},
        "not_enrollable": [
            {
                "category": cat.category.value,
                "people": cat.people,
                "dropped": list(cat.person.dropped),
            }
            for cat in quote.not_enrollable
        ],
    }
