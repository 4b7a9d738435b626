"""Plan selection: which combinations of plan codes a unit batch may choose."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rules.errors import InvalidInput
from rules.policy import PlanCode, PolicyYear, latest_policy_year
from rules.sentence import Sentence

# Commas, the enumeration comma and semicolons, half- and full-width; 和, 及 and 与.
_SEPARATORS = re.compile(r"[\s,，、;；/+＋和及与]+")
_CODE = re.compile(r"[A-Z]+\d+")


@dataclass(frozen=True)
class Refusal:
    """One reason a selection is refused: a stable code and the sentence that says it."""

    code: str
    sentence: Sentence

    @property
    def message(self) -> str:
        """The reason as the user reads it."""
        return self.sentence.text


def _refusal(code: str, **values: object) -> Refusal:
    return Refusal(code, Sentence.of(f"rules.refusal.{code}", **values))


@dataclass(frozen=True)
class SelectionCheck:
    plans: tuple[PlanCode, ...]
    refusals: tuple[Refusal, ...]

    @property
    def accepted(self) -> bool:
        return not self.refusals


def parse_plan_codes(text: str) -> tuple[PlanCode, ...]:
    """Read plan codes typed as "A0,B0 c0", "a0b0c0" or "A0、B0"; keep order and repeats.

    Anything that is not a code is refused rather than skipped, so a typo is never lost.
    """
    compact = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if not compact:
        return ()
    codes = tuple(_CODE.findall(compact))
    if "".join(codes) != compact:
        # The examples: the basic trio and the first enhanced plan of the newest year.
        policy = latest_policy_year()
        enhanced = next(p.code for p in policy.plans if not p.is_basic)
        raise InvalidInput(
            "rules.plans.unreadable", text=text.strip(), examples=(*policy.trio, enhanced)
        )
    return codes


def check_selection(
    codes: Iterable[PlanCode],
    policy: PolicyYear,
    centralized_plans: Iterable[PlanCode] | None = None,
) -> SelectionCheck:
    """Accept or refuse a unit's plan codes, giving every reason at once.

    ``centralized_plans`` are the plans of the unit's centralized enrollment this year;
    instant enrollment in the same year must keep exactly those.
    """
    chosen = tuple(c.strip().upper() for c in codes)
    refusals: list[Refusal] = []
    known = set(policy.plan_codes)

    if not chosen:
        refusals.append(_refusal("empty_selection"))

    unknown = tuple(c for c in dict.fromkeys(chosen) if c not in known)
    if unknown:
        refusals.append(_refusal("unknown_plan", unknown=unknown, known=policy.plan_codes))

    repeated = tuple(c for c, n in Counter(chosen).items() if n > 1)
    if repeated:
        refusals.append(_refusal("duplicate_plan", repeated=repeated))

    plans = [policy.plan(c) for c in dict.fromkeys(chosen) if c in known]
    basics = tuple(p.code for p in policy.plans if p.is_basic)
    if chosen and not any(p.is_basic for p in plans):
        refusals.append(_refusal("no_basic", basics=basics))

    for series, info in policy.series.items():
        enhanced = tuple(p.code for p in plans if p.series == series and not p.is_basic)
        if len(enhanced) > 1:
            options = tuple(p.code for p in policy.plans if p.series == series and not p.is_basic)
            refusals.append(
                _refusal("multiple_enhanced", series=info.name, options=options, chosen=enhanced)
            )

    if centralized_plans is not None:
        fixed = {c.upper() for c in centralized_plans}
        if set(chosen) != fixed:
            refusals.append(_refusal("differs_from_centralized", plans=tuple(sorted(fixed))))

    return SelectionCheck(plans=tuple(dict.fromkeys(chosen)), refusals=tuple(refusals))
