"""Plan selection: which combinations of plan codes a unit batch may choose."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rules.errors import InvalidInput
from rules.policy import PlanCode, PolicyYear

_SEPARATORS = re.compile(r"[\s,，、;；/+＋和及与]+")
_CODE = re.compile(r"[A-Z]+\d+")


@dataclass(frozen=True)
class Refusal:
    """One reason a selection is refused: a stable code and a Chinese message."""

    code: str
    message: str


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
        raise InvalidInput(
            f"没看懂“{text.strip()}”里的保障项目代码。"
            "请写成 A0、B0、C0、A1 这样的代码，用逗号隔开。"
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
        refusals.append(Refusal("empty_selection", "还没有选择保障项目。"))

    unknown = [c for c in dict.fromkeys(chosen) if c not in known]
    if unknown:
        refusals.append(
            Refusal(
                "unknown_plan",
                f"没有这个保障项目：{'、'.join(unknown)}。"
                f"可选的是 {'、'.join(policy.plan_codes)}。",
            )
        )

    repeated = [c for c, n in Counter(chosen).items() if n > 1]
    if repeated:
        refusals.append(
            Refusal(
                "duplicate_plan", f"{'、'.join(repeated)} 选了不止一次：每个保障项目只能参保一份。"
            )
        )

    plans = [policy.plan(c) for c in dict.fromkeys(chosen) if c in known]
    basics = [p.code for p in policy.plans if p.is_basic]
    if chosen and not any(p.is_basic for p in plans):
        refusals.append(
            Refusal(
                "no_basic",
                f"基本保障项目 {'、'.join(basics)} 至少要选 1 种，"
                "加强保障项目只能在基本保障项目的基础上参加。",
            )
        )

    for series, info in policy.series.items():
        enhanced = [p.code for p in plans if p.series == series and not p.is_basic]
        if len(enhanced) > 1:
            options = [p.code for p in policy.plans if p.series == series and not p.is_basic]
            refusals.append(
                Refusal(
                    "multiple_enhanced",
                    f"{info.name}的加强保障 {'、'.join(options)} 至多选 1 种，"
                    f"现在选了 {'、'.join(enhanced)}。",
                )
            )

    if centralized_plans is not None:
        fixed = {c.upper() for c in centralized_plans}
        if set(chosen) != fixed:
            refusals.append(
                Refusal(
                    "differs_from_centralized",
                    "参加过集中参保的单位，即时参保的保障项目必须与集中参保时一致："
                    f"{'、'.join(sorted(fixed))}，不能增减。",
                )
            )

    return SelectionCheck(plans=tuple(dict.fromkeys(chosen)), refusals=tuple(refusals))
