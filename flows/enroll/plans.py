"""Step 4: plans, one series at a time, with the running premium; the whole selection is
checked against the rules before the summary."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from flows.enroll.draft import (
    FIX,
    PLAN_SLOTS,
    PLANS,
    SERIES,
    counts_of,
    fixed_plans_of,
    names_of,
    people_of,
    policy_of,
    start_of,
)
from flows.extract import (
    QUESTION,
    extract_plan_edit,
    extract_plans,
    normalize_text,
    plan_mentions,
)
from flows.flow import FlowContext, Go, Invalid, Step
from flows.messages import Choice, Reply
from flows.quote_text import refusal_text
from rules.fmt import yuan
from rules.people import Category
from rules.plans import check_selection
from rules.policy import Series
from rules.premium import UnitQuote, person_premium, quote_unit


def _chosen(ctx: FlowContext) -> list[str]:
    fixed = fixed_plans_of(ctx)
    if fixed:
        return list(fixed)
    return [code for s in SERIES for code in ctx.slots.get(PLAN_SLOTS[s]) or []]


def _running(ctx: FlowContext, plans: Sequence[str]) -> str:
    """The premium of the plans chosen so far, per category present and in total."""
    if not plans:
        return ""
    policy, start = policy_of(ctx), start_of(ctx)
    cats, total = [], Decimal(0)
    for category, people in counts_of(ctx).items():
        if not people:
            continue
        each = person_premium(plans, category, start, policy).total
        total += each * people
        zhibao = category is Category.ZHIBAO
        cats.append({"zhibao": zhibao, "each": yuan(each), "people": people})
    return ctx.say("enroll_running", plans="+".join(plans), cats=cats, total=yuan(total))


_SERIES_WORDS = {
    "A": r"[Aa]\s*系列|住院",
    "B": r"[Bb]\s*系列|重疾|重病|特种重病",
    "C": r"[Cc]\s*系列|意外",
}
_NONE = r"不要|不用|不需要|不考虑|不选|不参加|不买|跳过|算了|免了|去掉"


def _series_plan(series: Series) -> Callable[[str, FlowContext], list[str] | None]:
    def extract(text: str, ctx: FlowContext) -> list[str] | None:
        text = normalize_text(text)
        if QUESTION.search(text):
            return None  # "B1和B2有啥区别": a question, answered before asking again
        wanted, declined = plan_mentions(text)
        edit = extract_plan_edit(text)
        named = [*(edit.chosen or ()), *edit.add, *edit.remove] if edit else []
        mine = []
        if edit and any(c.startswith(series) for c in named):
            # "A0 B0 C0 A1", "A那里再加个A3", "A0不用": this series' part of the edit, applied
            # to what it holds ("再加" keeps A0).
            current = ctx.slots.get(PLAN_SLOTS[series]) or []
            mine = [c for c in edit.apply(current) if c.startswith(series)]
            if not mine:
                return []
        if not mine:
            # "不选", "住院的不要": this series is left out; naming only later series' plans
            # ("只要B0和C0" at A) leaves it out too, and the prefill gives them theirs.
            # Naming an earlier series ("B系列不要了" at C) is about that series.
            own = _SERIES_WORDS[series]
            later = SERIES[SERIES.index(series) + 1 :]
            others = [w for s, w in _SERIES_WORDS.items() if s != series]
            if re.search(rf"({own}).{{0,4}}({_NONE})|({_NONE}).{{0,4}}({own})", text):
                return []
            if wanted and all(c[0] in later for c in wanted):
                return []
            if wanted or declined or any(re.search(w, text) for w in others):
                return None
            skip = re.search(rf"{_NONE}|都不|^无|^没有|none", text)
            return [] if skip else None
        # The series on its own can break only the one-enhanced-plan rule.
        check = check_selection(mine, policy_of(ctx))
        refused = [r for r in check.refusals if r.code == "multiple_enhanced"]
        if refused:
            raise Invalid(refusal_text(refused))
        return mine

    return extract


def _ask_plan(series: Series) -> Callable[[FlowContext], Reply]:
    def prompt(ctx: FlowContext) -> Reply:
        policy, start = policy_of(ctx), start_of(ctx)
        tier = policy.price_tier(start)
        codes = [p.code for p in policy.plans if p.series == series]
        prices = " ".join(f"{c} {yuan(tier.prices[c])}" for c in codes)
        basic = next(c for c in codes if policy.plan(c).is_basic)
        enhanced = [c for c in codes if c != basic]
        rule = (
            ctx.say("enroll_plan_rule_A")
            if policy.plan(basic).zhibao_only
            else ctx.say("enroll_plan_rule_other", series=series)
        )
        earlier = [
            c for s in SERIES[: SERIES.index(series)] for c in ctx.slots.get(PLAN_SLOTS[s]) or []
        ]
        text = ctx.say(
            "enroll_ask_plan",
            running=_running(ctx, earlier),
            series_name=policy.series[series].name,
            series=series,
            codes="、".join(codes),
            prices=prices,
            rule=rule,
        )
        options = [[basic], *([basic, e] for e in enhanced), *([e] for e in enhanced)]
        choices = tuple(Choice("+".join(o), f"v:{' '.join(o)}") for o in options)
        return Reply(
            text, (*choices, Choice(ctx.say("enroll_plan_none", series=series), "v:不选"))
        )

    return prompt


_ONLY = re.compile(
    r"只要|只选|只参加|只买|就要|就行|就好|就可以|就够|别的都不|其他都不|其余都不|其他不要|别的不要"
)
"""The plans named are all there is: series not named are left out ("只要B0和C0")."""


def prefill_plans(text: str, ctx: FlowContext) -> None:
    """Plan codes for several series in one message ("A0 B0 C0 A1") fill each series."""
    if ctx.step not in PLAN_SLOTS.values():
        return
    said = normalize_text(text)
    if QUESTION.search(said):
        return  # "顺带问一下 4个人只要A0 B0多少": a quote asked aside, not the choice
    scoped = any(re.search(words, said) for words in _SERIES_WORDS.values())
    # "只要B0和C0": the series not named are left out, unless a series is named as the scope
    # ("A系列就要个A0吧" is about A alone).
    only = bool(_ONLY.search(said)) and extract_plans(said) is not None and not scoped
    for series in SERIES:
        try:
            value = _series_plan(series)(text, ctx)
        except Invalid as exc:
            ctx.slots[f"_{PLAN_SLOTS[series]}_error"] = exc.reason
            continue
        if only and not value and series not in {c[0] for c in plan_mentions(said)[0]}:
            value = []  # "只要A0跟C0": B is left out
        if value or (only and value is not None):
            ctx.slots[PLAN_SLOTS[series]] = value


def quote_of(ctx: FlowContext) -> UnitQuote:
    return quote_unit(
        ctx.slots[PLANS], start_of(ctx), counts_of(ctx), centralized_plans=fixed_plans_of(ctx)
    )


async def _plans_review(ctx: FlowContext) -> list[Reply]:
    plans, fixed = _chosen(ctx), fixed_plans_of(ctx)
    check = check_selection(plans, policy_of(ctx), fixed)
    if not check.accepted:
        _replan(ctx)
        return [Reply(f"{refusal_text(check.refusals)}\n{ctx.say('enroll_plans_again')}")]
    ctx.slots[PLANS] = list(check.plans)
    quote = quote_of(ctx)
    replies = []
    if fixed:
        replies.append(Reply(ctx.say("enroll_fixed_plans_used", plans="、".join(fixed))))
    names = names_of(ctx)
    non_zhibao = [
        names.get(p.row, "") + ctx.say("enroll.person_row", row=p.row)
        for p in people_of(ctx)
        if p.category is Category.NON_ZHIBAO
    ]
    if quote.not_enrollable:
        key = "enroll_nothing_for_fixed" if fixed else "enroll_nothing_for"
        replies.append(Reply(ctx.say(key, people=len(non_zhibao), names="、".join(non_zhibao))))
        if fixed:
            ctx.slots.pop(FIX, None)  # the roster is fixed again: these plans need people
        else:
            _replan(ctx)
        return replies
    dropped = {c for cat in quote.categories for c in cat.person.dropped}
    if dropped and non_zhibao:
        # Both figures from the premium rules: dropping A0 can also lose the trio discount.
        policy, start = policy_of(ctx), start_of(ctx)
        full = person_premium(ctx.slots[PLANS], Category.ZHIBAO, start, policy)
        without = person_premium(ctx.slots[PLANS], Category.NON_ZHIBAO, start, policy)
        text = ctx.say(
            "enroll_no_a0",
            people=len(non_zhibao),
            names="、".join(non_zhibao),
            dropped="、".join(without.dropped),
            each=yuan(without.total),
            less=yuan(full.total - without.total),
            lost_discount=full.discount > without.discount,
        )
        replies.append(Reply(text))
    return replies


def _replan(ctx: FlowContext) -> None:
    """The plans are asked again from the first series (``PLANS`` left unset)."""
    for slot in PLAN_SLOTS.values():
        ctx.slots.pop(slot, None)
    ctx.slots.pop(PLANS, None)


def _replanning(ctx: FlowContext) -> bool:
    return PLANS not in ctx.slots


def _refixing(ctx: FlowContext) -> bool:
    return FIX not in ctx.slots


def _show_plan(series: Series) -> Callable[[list[str], FlowContext], str]:
    def show(value: list[str], ctx: FlowContext) -> str:
        return ctx.say("enroll_plan_shown", plans="+".join(value), series=series)

    return show


_PLAN_WORDS = {s: rf"[{s}{s.lower()}]\s*[0-3]|{w}" for s, w in _SERIES_WORDS.items()}

STEPS = (
    Step(PLAN_SLOTS["A"], prompt=_ask_plan("A"), extract=_series_plan("A"),
         transitions=(PLAN_SLOTS["B"],), corrects=_PLAN_WORDS["A"], show=_show_plan("A")),
    Step(PLAN_SLOTS["B"], prompt=_ask_plan("B"), extract=_series_plan("B"),
         transitions=(PLAN_SLOTS["C"],), corrects=_PLAN_WORDS["B"], show=_show_plan("B")),
    Step(PLAN_SLOTS["C"], prompt=_ask_plan("C"), extract=_series_plan("C"),
         transitions=("plans_review",), corrects=_PLAN_WORDS["C"], show=_show_plan("C")),
    Step("plans_review", act=_plans_review,
         transitions=(Go(PLAN_SLOTS["A"], when=_replanning), Go(FIX, when=_refixing),
                      Go("summary"))),
)  # fmt: skip
