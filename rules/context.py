"""Figures from the policy-year data, as the variables knowledge-base answers use.

Answers are Jinja2 templates: a new policy year updates every answer with its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rules.fmt import cn_date, percent, yuan
from rules.policy import PolicyYear, PricingTier, latest_policy_year

TIER_NAMES = {"basic": "基本", "enhanced": "加强"}


@dataclass(frozen=True)
class PlanRow:
    code: str
    name: str
    series_name: str
    tier_name: str
    price: str
    half_price: str
    benefits: str


def build_context(policy: PolicyYear | None = None) -> dict[str, Any]:
    """Template variables for ``policy`` (default: the newest policy year), all strings."""
    p = policy or latest_policy_year()
    tiers = {t.tier: t for t in p.pricing}
    full, half = tiers[PricingTier.FULL_YEAR], tiers[PricingTier.HALF_YEAR]
    trio_total = sum((full.prices[c] for c in p.trio), Decimal(0))
    review = p.review_working_days
    return {
        "year": str(p.year),
        "coverage_start": cn_date(p.coverage.start),
        "coverage_end": cn_date(p.coverage.end),
        "centralized_open": cn_date(p.windows.centralized.open),
        "centralized_close": cn_date(p.windows.centralized.close),
        "instant_open": cn_date(p.windows.instant_open),
        "full_year_from": cn_date(full.start_from),
        "full_year_to": cn_date(full.start_to),
        "half_year_from": cn_date(half.start_from),
        "half_year_to": cn_date(half.start_to),
        "price": {c: yuan(v) for c, v in full.prices.items()},
        "half_price": {c: yuan(v) for c, v in half.prices.items()},
        "trio_total": yuan(trio_total),
        "trio_discounted": yuan(trio_total - full.trio_discount),
        "trio_discount": yuan(full.trio_discount),
        "plans": [
            PlanRow(
                code=plan.code,
                name=plan.name,
                series_name=p.series[plan.series].name,
                tier_name=TIER_NAMES[plan.tier],
                price=yuan(full.prices[plan.code]),
                half_price=yuan(half.prices[plan.code]),
                benefits=plan.benefits,
            )
            for plan in p.plans
        ],
        "age_female": str(p.age_limits.female),
        "age_male": str(p.age_limits.male),
        "max_rows": str(p.roster.max_rows_per_file),
        "change_pct": percent(p.roster.change_tolerance),
        "ratio_min_pct": percent(p.roster.si_ratio_min),
        "ratio_max_pct": percent(p.roster.si_ratio_max),
        "small_unit_max": str(p.roster.small_unit_max_people),
        "review_code_days": str(review.enrollment_code),
        "review_attachment_days": str(review.attachments),
        "review_voucher_days": str(review.voucher),
        "recovery_days": f"{review.account_recovery_min}-{review.account_recovery_max}",
        "waiting_A": str(p.series["A"].waiting_days),
        "waiting_B": str(p.series["B"].waiting_days),
        "transfer_days": str(p.payment.transfer_within_days),
        "payee": p.payment.payee,
        "account": p.payment.account,
        "bank": p.payment.bank,
        **p.contacts.model_dump(),
    }
