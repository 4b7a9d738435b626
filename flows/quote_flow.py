"""Premium quote: plans, head counts and start date, from one message or several."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flows.extract import extract_day_within, extract_head_count, extract_plans, normalize_text
from flows.flow import Flow, FlowContext, Invalid, Step, asking, prefill_slots, steps
from flows.messages import Choice, Reply
from flows.quote_text import refusal_text, render_quote
from flows.texts import say
from rules.errors import NoPolicyData
from rules.people import Category
from rules.plans import check_selection
from rules.policy import latest_policy_year, policy_for_coverage_date
from rules.premium import SelectionRefused, quote_unit

MAX_PEOPLE = 100_000
_COMPUTE = re.compile(r"测算|算一下|算算|帮我算|报价|算保费")

PLANS, PEOPLE, START = "plans", "people", "start"


def wants_quote(text: str) -> bool:
    """ "8个人参加A0B0C0，2024年2月起保多少钱": plans plus a head count or explicit asking
    to compute. "A0多少钱" alone is a knowledge-base question, not a quote."""
    text = normalize_text(text)
    if extract_plans(text) is None:
        return False
    has_count = extract_head_count(text) is not None
    return has_count or bool(_COMPUTE.search(text))


def _check_plans(plans: tuple[str, ...], ctx: FlowContext) -> tuple[str, ...]:
    start = ctx.slots.get(START)
    policy = policy_for_coverage_date(dt.date.fromisoformat(start)) if start else None
    check = check_selection(plans, policy or latest_policy_year())
    if not check.accepted:
        raise Invalid(refusal_text(check.refusals))
    return check.plans


def _plans(text: str, ctx: FlowContext) -> list[str] | None:
    plans = extract_plans(text)
    return None if plans is None else list(_check_plans(plans, ctx))


def _people(text: str, ctx: FlowContext) -> dict[str, int] | None:
    if re.search(r"(?:^|[^\d])[-－负]\s*\d+\s*(?:个|名|位)?\s*(?:人|员工|$)", text.strip()):
        raise Invalid(say("quote_bad_people", max_people=MAX_PEOPLE))
    count = extract_head_count(text, bare_number=True)
    if count is None:
        return None
    zhibao, non = count.zhibao or 0, count.non_zhibao or 0
    if zhibao + non < 1 or zhibao + non > MAX_PEOPLE:
        raise Invalid(say("quote_bad_people", max_people=MAX_PEOPLE))
    return {"zhibao": zhibao, "non_zhibao": non, "assumed": count.non_zhibao is None}


def _start(text: str, ctx: FlowContext) -> str | None:
    return extract_day_within(text, ctx.today, policy_for_coverage_date)


prefill = prefill_slots({START: _start, PEOPLE: _people, PLANS: _plans})


def _ask(
    key: str, slot: str, choices: Callable[[FlowContext], tuple[Choice, ...]] | None = None
) -> Callable[[FlowContext], Reply]:
    return asking(lambda: say(key), slot, choices)


async def _result(ctx: FlowContext) -> list[Reply]:
    start = dt.date.fromisoformat(ctx.slots[START])
    people = ctx.slots[PEOPLE]
    counts = {Category.ZHIBAO: people["zhibao"], Category.NON_ZHIBAO: people["non_zhibao"]}
    again = (
        Choice(say("quote_again"), "redo:quote:plans"),
        Choice(say("quote_change_people"), "redo:quote:people"),
        Choice(say("quote_change_start"), "redo:quote:start"),
    )
    try:
        quote = quote_unit(ctx.slots[PLANS], start, counts)
    except (SelectionRefused, NoPolicyData) as exc:
        return [Reply(exc.message, again)]
    text = render_quote(quote)
    if people.get("assumed"):
        text += "\n" + say("quote_assumed_zhibao", people=people["zhibao"])
    return [Reply(text, again)]


def _start_choices(ctx: FlowContext) -> tuple[Choice, ...]:
    start = latest_policy_year().coverage.start
    return (Choice(say("quote_start_button"), f"v:{start.isoformat()}"),)


def _plan_choices(ctx: FlowContext) -> tuple[Choice, ...]:
    return (
        Choice("A0+B0+C0", "v:A0 B0 C0"),
        Choice("A0+B0+C0+A1", "v:A0 B0 C0 A1"),
        Choice("B0+C0", "v:B0 C0"),
    )


QUOTE = Flow(
    name="quote",
    title="保费测算",
    start=PLANS,
    prefill=prefill,
    steps=steps(
        Step(
            PLANS,
            prompt=_ask("quote_ask_plans", PLANS, _plan_choices),
            extract=_plans,
            transitions=(PEOPLE,),
        ),
        Step(
            PEOPLE,
            prompt=_ask("quote_ask_people", PEOPLE),
            extract=_people,
            transitions=(START,),
        ),
        Step(
            START,
            prompt=_ask("quote_ask_start", START, _start_choices),
            extract=_start,
            transitions=("result",),
        ),
        Step("result", act=_result, end=True),
    ),
)
