"""Premium quote: plans, head counts and start date, from one message or several."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flows.extract import (
    RULE_QUESTION,
    VAGUE_COUNT,
    HeadCount,
    extract_head_count,
    extract_plan_edit,
    extract_plans,
    find_date,
    mentions_date,
    normalize_text,
    policy_span,
)
from flows.flow import Flow, FlowContext, Invalid, Step, asking, prefill_slots, steps
from flows.messages import Choice, Reply
from flows.quote_text import refusal_text, render_quote
from rules.catalog import say
from rules.dates import Mode, coverage_period, mode_on, submission_for
from rules.errors import NoPolicyData
from rules.fmt import cn_date
from rules.people import Category
from rules.plans import check_selection
from rules.policy import (
    PolicyYear,
    latest_policy_year,
    policy_for_coverage_date,
)
from rules.premium import SelectionRefused, quote_unit

MAX_PEOPLE = 100_000
_WORK_OUT = re.compile(
    r"测算|算一下|算算|帮我算|报价|报个价|算保费|算下|估算|估一下|估个价|估价|测一下|测下|测个价|算个"
)
_ASK_MONEY = re.compile(r"多少钱|交多少|要多少|缴多少|几块钱|保费多少|费用多少")
_MONEY = re.compile(r"保费|保险费|费用|多少钱|交多少|要多少|缴多少|价|钱")
_PER_PERSON = re.compile(
    r"(多少钱|多少|几块|价格)\s*(一|每)\s*个?\s*人|(一|每)\s*个?\s*人\s*(要|得)?\s*(多少|几块|交多少)"
)
_EARLIEST = re.compile(r"最早|最快|尽快|越快越好|越早越好|马上|立即|立刻|最近的那天")
_ABOUT_PLAN = re.compile(r"什么|啥|怎么赔|区别|哪个好|哪些|包括|保障范围|管什么|管啥|是指")
_HOW = re.compile(r"怎么|如何|规则|标准|方法|公式")

PLANS, PEOPLE, START = "plans", "people", "start"


def wants_quote(text: str) -> bool:
    """ "8个人参加A0B0C0，2024年2月起保多少钱", "8个人交多少", "帮我测一下保费": a head count
    with plans or with asking for the money, or asking to work the premium out. "A0多少钱"
    and "保费怎么算" are knowledge-base questions, not quotes."""
    text = normalize_text(text)
    if _PER_PERSON.search(text) or RULE_QUESTION.search(text):
        return False  # "A1多少钱一个人": the price of a plan, a knowledge-base question
    has_count = extract_head_count(text) is not None
    if extract_plans(text) is None:
        if has_count and _MONEY.search(text):
            return True
        if mentions_date(text) and _ASK_MONEY.search(text):
            return True  # "8月15号起保 要交多少"
        return bool(_WORK_OUT.search(text) and _MONEY.search(text)) and not _HOW.search(text)
    return has_count or bool(_WORK_OUT.search(text))


def _check_plans(plans: tuple[str, ...], ctx: FlowContext) -> tuple[str, ...]:
    start = ctx.slots.get(START)
    policy = policy_for_coverage_date(dt.date.fromisoformat(start)) if start else None
    check = check_selection(plans, policy or latest_policy_year())
    if not check.accepted:
        raise Invalid(refusal_text(check.refusals))
    return check.plans


def _plans(text: str, ctx: FlowContext) -> list[str] | None:
    """Plans named anew, or an edit of those chosen ("去掉C0", "再加上A1"); a question about
    a plan ("A1是管什么的") is none."""
    if _ABOUT_PLAN.search(normalize_text(text)):
        return None
    edit = extract_plan_edit(text)
    if edit is None:
        return None
    plans = edit.apply(ctx.slots.get(PLANS) or [])
    if not plans:
        raise Invalid(refusal_text(check_selection((), latest_policy_year()).refusals))
    return list(_check_plans(plans, ctx))


def _show_plans(value: list[str], ctx: FlowContext) -> str:
    return "、".join(value)


def _people(text: str, ctx: FlowContext) -> dict[str, int] | None:
    if re.search(r"(?:^|[^\d])[-－负]\s*\d+\s*(?:个|名|位)?\s*(?:人|员工|$)", text.strip()):
        raise Invalid(ctx.say("quote_bad_people", max_people=MAX_PEOPLE))
    count = extract_head_count(text, bare_number=True)
    if count is None:
        if VAGUE_COUNT.search(normalize_text(text)):
            raise Invalid(ctx.say("vague_count"))
        return None
    previous = ctx.slots.get(PEOPLE)
    split = count.resolve((previous["zhibao"], previous["non_zhibao"]) if previous else None)
    if split is None:
        raise Invalid(ctx.say("quote_people_unclear"))
    zhibao, non = split
    if zhibao + non < 1 or zhibao + non > MAX_PEOPLE:
        raise Invalid(ctx.say("quote_bad_people", max_people=MAX_PEOPLE))
    return {"zhibao": zhibao, "non_zhibao": non, "assumed": _assumed(count, previous)}


def _assumed(count: HeadCount, previous: dict[str, Any] | None) -> bool:
    """Only a total was given: everyone is taken to be in 职保, and the quote says so."""
    if count.change and previous:
        return bool(previous.get("assumed"))
    return count.zhibao is None and count.non_zhibao is None and not count.all_non_zhibao


def _show_people(value: dict[str, int], ctx: FlowContext) -> str:
    return ctx.say("quote_people_shown", zhibao=value["zhibao"], non=value["non_zhibao"])


def _earliest(today: dt.date) -> tuple[PolicyYear, Mode, dt.date] | None:
    """The first possible start for a roster submitted today, or None out of every year."""
    try:
        policy, mode = mode_on(today)
        return policy, mode, coverage_period(today).start
    except NoPolicyData:
        return None


def _start(text: str, ctx: FlowContext) -> str | None:
    """The coverage start: a date said as the start (起保), or the day after a submission
    date (提交); "集中参保" while its window is open. Starts already gone are refused."""
    now = _earliest(ctx.today)
    if _EARLIEST.search(normalize_text(text)) and now is not None:
        return now[2].isoformat()  # "最早能从哪天开始保", "越快越好"
    if re.fullmatch(r"\s*(选|按|走|就)?(集中参保|集中)(的|办理)?.{0,6}", normalize_text(text)):
        if now is not None and now[1] is Mode.CENTRALIZED:
            return now[2].isoformat()
        day = now[0].coverage.start if now else latest_policy_year().coverage.start
    else:
        span = policy_span(now[0]) if now else None
        found = find_date(text, ctx.today, span)
        if found is None:
            if re.fullmatch(r"\s*\d+(\.\d+)?\s*", normalize_text(text)):
                raise Invalid(ctx.say("not_a_date", value=text.strip()))
            return None
        day = found.day
        try:
            if found.role == "submit":
                day = coverage_period(day).start
            policy_for_coverage_date(day)
        except NoPolicyData as exc:
            raise Invalid(exc.message) from None
    if now is None and day > ctx.today:
        return day.isoformat()
    if now is None or day < now[2]:
        policy = now[0] if now else latest_policy_year()
        closed = day == policy.coverage.start
        raise Invalid(
            ctx.say(
                "quote_centralized_closed" if closed else "quote_start_past",
                day=cn_date(day),
                close=cn_date(policy.windows.centralized.close),
                earliest=cn_date(now[2]) if now else "",
            )
        )
    return day.isoformat()


def _show_start(value: str, ctx: FlowContext) -> str:
    return ctx.say("quote_start_shown", start=cn_date(dt.date.fromisoformat(value)))


prefill = prefill_slots({START: _start, PEOPLE: _people, PLANS: _plans})


def _ask(
    key: str, slot: str, choices: Callable[[FlowContext], tuple[Choice, ...]] | None = None
) -> Callable[[FlowContext], Reply]:
    return asking(lambda ctx: ctx.say(key), slot, choices)


def _start_question(ctx: FlowContext) -> str:
    now = _earliest(ctx.today)
    centralized = now is not None and now[1] is Mode.CENTRALIZED
    earliest = cn_date(now[2]) if now else ""
    closed = ""
    if now is None:  # today is in no policy year: say so before asking for a date
        try:
            mode_on(ctx.today)
            coverage_period(ctx.today)
        except NoPolicyData as exc:
            closed = exc.message
    policy = now[0] if now else None
    return say(
        "quote_ask_start", policy=policy, centralized=centralized, earliest=earliest, closed=closed
    )


async def _result(ctx: FlowContext) -> list[Reply]:
    start = dt.date.fromisoformat(ctx.slots[START])
    people = ctx.slots[PEOPLE]
    counts = {Category.ZHIBAO: people["zhibao"], Category.NON_ZHIBAO: people["non_zhibao"]}
    again = (
        Choice(ctx.say("quote_again"), "redo:quote:plans"),
        Choice(ctx.say("quote_change_people"), "redo:quote:people"),
        Choice(ctx.say("quote_change_start"), "redo:quote:start"),
    )
    try:
        quote = quote_unit(ctx.slots[PLANS], start, counts)
    except (SelectionRefused, NoPolicyData) as exc:
        return [Reply(exc.message, again)]
    text = render_quote(quote)
    if people.get("assumed"):
        text += "\n" + ctx.say("quote_assumed_zhibao", people=people["zhibao"])
    return [Reply(text, again)]


def _start_choices(ctx: FlowContext) -> tuple[Choice, ...]:
    """Starts that are still possible today: submitting today or tomorrow (or the year's
    start in the centralized window), and the half-year tier's first day if ahead."""
    now = _earliest(ctx.today)
    if now is None:
        return ()
    policy, mode, first = now
    if mode is Mode.CENTRALIZED:
        choices = [Choice(ctx.say("quote_start_button", start=cn_date(first)), f"v:{first}")]
    else:
        choices = [Choice(ctx.say("quote_start_today", start=cn_date(first)), f"v:{first}")]
        second = first + dt.timedelta(days=1)
        if second <= policy.coverage.end:
            choices.append(
                Choice(ctx.say("quote_start_tomorrow", start=cn_date(second)), f"v:{second}")
            )
    for tier in policy.pricing[1:]:
        if tier.start_from > first:
            label = ctx.say("quote_start_tier", start=cn_date(tier.start_from))
            choices.append(Choice(label, f"v:{tier.start_from}"))
    return tuple(choices)


def _plan_choices(ctx: FlowContext) -> tuple[Choice, ...]:
    return (
        Choice("A0+B0+C0", "v:A0 B0 C0"),
        Choice("A0+B0+C0+A1", "v:A0 B0 C0 A1"),
        Choice("B0+C0", "v:B0 C0"),
    )


def _shares(ctx: FlowContext) -> dict[str, Any]:
    """A coverage question right after a quote is about the quote's start date."""
    start = ctx.slots.get(START)
    if not start:
        return {}
    return {"submitted": submission_for(dt.date.fromisoformat(start), ctx.today).isoformat()}


QUOTE = Flow(
    name="quote",
    title=say("flows.quote_title"),
    start=PLANS,
    shares=_shares,
    prefill=prefill,
    steps=steps(
        Step(
            PLANS,
            prompt=_ask("quote_ask_plans", PLANS, _plan_choices),
            extract=_plans,
            transitions=(PEOPLE,),
            corrects=r"项目|保障|[ABCabc]\s*[0-3]|基本|住院|重疾|重病|意外|加强",
            show=_show_plans,
        ),
        Step(
            PEOPLE,
            prompt=_ask("quote_ask_people", PEOPLE),
            extract=_people,
            transitions=(START,),
            corrects=r"人|员工|社保|职保|名|个|位",
            show=_show_people,
        ),
        Step(
            START,
            prompt=asking(_start_question, START, _start_choices),
            extract=_start,
            transitions=("result",),
            corrects=r"起保|生效|日期|提交|交名单|号|日|月|周|星期|礼拜|天",
            show=_show_start,
        ),
        Step("result", act=_result, end=True),
    ),
)
