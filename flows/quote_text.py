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
    out = [
        f"{quote.policy_year}年度保费测算：起保日{cn_date(quote.start)}，"
        f"按{say(f'label.tier.{quote.tier.value}')}，保障项目 {'、'.join(quote.plans)}。"
    ]
    for cat in quote.categories:
        out.append("")
        out.append(f"【{cat.label}】{cat.people}人")
        out.append("项目    单价(元)  人数    金额(元)")
        for line in cat.lines:
            out.append(
                f"{line.plan:<6}{yuan(line.price):>9}{line.people:>6}{yuan(line.amount):>12}"
            )
        if cat.person.discount:
            trio = "+".join(policy.trio)
            out.append(
                f"{trio}同时参保优惠 每人-{yuan(cat.person.discount)}元，"
                f"共-{yuan(cat.discount_total)}元"
            )
        for code in cat.person.dropped:
            out.append(f"{code}仅限职保在职人员参加，这{cat.people}人不参加{code}。")
        if cat.category is Category.NON_ZHIBAO and any(
            policy.plan(c).series == "A" and not policy.plan(c).is_basic for c in cat.person.plans
        ):
            enhanced_a = "、".join(
                p.code for p in policy.plans if p.series == "A" and not p.is_basic
            )
            out.append(f"提醒：非职保人员参加{enhanced_a}不享受起付线补助，保费相同。")
        out.append(f"小计 {yuan(cat.subtotal)}元（每人{yuan(cat.person.total)}元）")
    open_basics = "或".join(p.code for p in policy.plans if p.is_basic and not p.zhibao_only)
    for cat in quote.not_enrollable:
        out.append("")
        out.append(
            f"【{cat.label}】{cat.people}人：所选项目中没有他们能参加的"
            f"（{'、'.join(cat.person.dropped)}仅限职保在职人员），无法为他们参保。"
            f"如需为他们参保，请加选{open_basics}等项目。"
        )
    out.append("")
    if quote.categories:
        out.append(f"合计：{yuan(quote.total)}元")
    else:
        out.append("按所选项目没有可以参保的人员，无法计算保费。")
    if quote.tier is PricingTier.HALF_YEAR and quote.plans:
        out.append(
            f"起保日在{cn_date(policy.price_tier(quote.start).start_from)}以后按半年标准缴费，"
            "不享受三项基本保障同时参保的优惠。"
        )
    out.append("以上为测算，最终金额以平台【保费详细】为准。")
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
