"""Step 1: where the unit stands. Today's date decides centralized or instant enrollment,
an instant unit that joined centralized enrollment keeps its plans, and the submission
date fixes the coverage start. What the request that starts the enrollment says of these
is taken at once (the prefills)."""

from __future__ import annotations

import datetime as dt
import re

from flows.enroll.draft import (
    ACCOUNT,
    FIXED,
    JOINED,
    MODE,
    SUBMIT,
    UNIT,
    YEAR,
    mode_of,
    policy_of,
    submitted_on,
)
from flows.extract import (
    extract_choice,
    extract_plans,
    find_dates,
    normalize_text,
    policy_span,
)
from flows.flow import FlowContext, Go, Invalid, Step, prefill_slots
from flows.messages import Choice, Reply
from flows.quote_text import refusal_text
from rules.dates import (
    Mode,
    coverage_period,
    mode_on,
)
from rules.errors import NoPolicyData
from rules.fmt import cn_date
from rules.plans import check_selection


async def _intro(ctx: FlowContext) -> list[Reply]:
    try:
        policy, mode = mode_on(ctx.today)
        coverage_period(ctx.today)  # on the year's last day a submission starts nothing
    except NoPolicyData as exc:
        return [Reply(ctx.say("enroll_closed", reason=exc.message))]
    ctx.slots[MODE], ctx.slots[YEAR] = mode.value, policy.year
    window = policy.windows.centralized
    text = ctx.say(
        f"enroll_intro_{mode.value}",
        today=cn_date(ctx.today),
        year=policy.year,
        open=cn_date(window.open),
        close=cn_date(window.close),
        start=cn_date(policy.coverage.start),
        end=cn_date(policy.coverage.end),
    )
    return [Reply(text)]


def _joined(text: str, ctx: FlowContext) -> bool | None:
    return extract_choice(
        text,
        no=r"没参加|没有参加|未参加|没办|没有办|第一次|没来得及|错过|没赶上|没有?报",
        yes=r"参加过|参加了|办过|办了|参加的|报过|报了|交过",
    )


def _show_joined(value: bool, ctx: FlowContext) -> str:
    return ctx.say("enroll_joined_shown", joined=value)


def _ask_joined(ctx: FlowContext) -> Reply:
    choices = (
        Choice(ctx.say("enroll_joined_yes"), "v:是"),
        Choice(ctx.say("enroll_joined_no"), "v:没有"),
    )
    return Reply(ctx.say("enroll_ask_joined", year=ctx.slots[YEAR]), choices)


def _fixed(text: str, ctx: FlowContext) -> list[str] | None:
    plans = extract_plans(text)
    if plans is None:
        return None
    check = check_selection(plans, policy_of(ctx))
    if not check.accepted:
        raise Invalid(refusal_text(check.refusals))
    return list(check.plans)


def _submit(text: str, ctx: FlowContext) -> str | None:
    """The day the roster will be submitted. A date said as the coverage start ("12月1日
    起保") is turned into the submission day it needs; dates already gone are refused."""
    policy = policy_of(ctx)
    mentions = find_dates(text, ctx.today, policy_span(policy))
    if not mentions:
        if re.fullmatch(r"\s*\d+(\.\d+)?\s*", normalize_text(text)):
            raise Invalid(ctx.say("not_a_date", value=text.strip()))
        return None
    # "7月1号起保的话，我们6月20号交名单": the submission day, when one is said, decides.
    found = next((m for m in mentions if m.role == "submit"), mentions[0])
    day = found.day
    centralized = mode_of(ctx) is Mode.CENTRALIZED
    close = policy.windows.centralized.close
    if found.role == "start":
        if day == policy.coverage.start and centralized:
            return ctx.today.isoformat()
        if day <= ctx.today or (day == policy.coverage.start and not centralized):
            raise Invalid(ctx.say("enroll_start_past", day=cn_date(day), earliest=_earliest(ctx)))
        if centralized:
            raise Invalid(ctx.say("enroll_start_in_window", day=cn_date(day), close=cn_date(close),
                              start=cn_date(policy.coverage.start)))  # fmt: skip
        day -= dt.timedelta(days=1)
    if day < ctx.today:
        raise Invalid(ctx.say("enroll_submit_past", day=cn_date(day)))
    if centralized and day > close:
        raise Invalid(
            ctx.say("enroll_submit_after_window", day=cn_date(day), close=cn_date(close))
        )
    if day >= policy.coverage.end:
        raise Invalid(ctx.say("enroll_submit_after_year", end=cn_date(policy.coverage.end)))
    return day.isoformat()


def _earliest(ctx: FlowContext) -> str:
    return cn_date(coverage_period(ctx.today).start)


def _show_submit(value: str, ctx: FlowContext) -> str:
    day = dt.date.fromisoformat(value)
    return ctx.say(
        "enroll_submit_shown", day=cn_date(day), start=cn_date(coverage_period(day).start)
    )


def _ask_submit(ctx: FlowContext) -> Reply:
    policy = policy_of(ctx)
    today, tomorrow = ctx.today, ctx.today + dt.timedelta(days=1)
    choices = [Choice(ctx.say("enroll_today", day=cn_date(today)), f"v:{today.isoformat()}")]
    last = (
        policy.windows.centralized.close
        if mode_of(ctx) is Mode.CENTRALIZED
        else policy.coverage.end - dt.timedelta(days=1)
    )
    if tomorrow <= last:
        choices.append(Choice(ctx.say("enroll_tomorrow", day=cn_date(tomorrow)), f"v:{tomorrow}"))
    text = ctx.say(
        "enroll_ask_submit",
        instant=mode_of(ctx) is Mode.INSTANT,
        close=cn_date(policy.windows.centralized.close),
    )
    return Reply(text, tuple(choices))


async def _submit_set(ctx: FlowContext) -> list[Reply]:
    period = coverage_period(submitted_on(ctx))
    text = ctx.say(
        "enroll_submit_set",
        submit=cn_date(submitted_on(ctx)),
        start=cn_date(period.start),
        end=cn_date(period.end),
    )
    return [Reply(text)]


def _closed(ctx: FlowContext) -> bool:
    return MODE not in ctx.slots


def _instant(ctx: FlowContext) -> bool:
    return mode_of(ctx) is Mode.INSTANT


def joined_centralized(ctx: FlowContext) -> bool:
    return bool(ctx.slots.get(JOINED))


STEPS = (
    Step("intro", act=_intro,
         transitions=(Go("closed", when=_closed), Go(JOINED, when=_instant), Go(SUBMIT))),
    Step("closed", end=True),
    Step(JOINED, prompt=_ask_joined, extract=_joined,
         transitions=(Go(FIXED, when=joined_centralized), Go(SUBMIT)),
         corrects=r"集中参保|集中|参加过|参加了|没参加|办过", show=_show_joined),
    Step(FIXED, prompt=lambda ctx: Reply(ctx.say("enroll_ask_fixed_plans")), extract=_fixed,
         transitions=(SUBMIT,)),
    Step(SUBMIT, prompt=_ask_submit, extract=_submit, transitions=("submit_set",),
         corrects=r"提交|交名单|日期|时间|起保|生效|号|日|月|周|星期|礼拜|天", show=_show_submit),
    # A unit that joined centralized enrollment this year has done the platform's
    # prerequisites already (handbook: 参加过集中参保的单位无需进行该操作).
    Step("submit_set", act=_submit_set, replay=True,
         transitions=(Go(UNIT, when=joined_centralized), Go(ACCOUNT))),
)  # fmt: skip


_fill_fixed = prefill_slots({FIXED: _fixed})


def prefill_fixed(text: str, ctx: FlowContext) -> None:
    """ "参加过，当时选的A0 B0 C0": the plans kept from centralized enrollment, said with the
    answer that the unit joined it."""
    if ctx.step in (JOINED, FIXED):
        _fill_fixed(text, ctx)


_JOINED_NO = r"没参加|没有参加|未参加|没办|没有办|没来得及|错过|没赶上"


_JOINED_YES = r"参加过|参加了|办过|办了"


def prefill_joined(text: str, ctx: FlowContext) -> None:
    """ "我要参保 没参加过集中的": whether the unit joined centralized enrollment, said with
    the request (instant enrollment only; in the window the question is not asked)."""
    said = normalize_text(text)
    if ctx.step != "intro" or "集中" not in said:
        return
    try:
        if mode_of(ctx) is not Mode.INSTANT:
            return
    except NoPolicyData:
        return
    if re.search(_JOINED_NO, said):
        ctx.slots[JOINED] = False
    elif re.search(_JOINED_YES, said):
        ctx.slots[JOINED] = True


def prefill_submit(text: str, ctx: FlowContext) -> None:
    """ "打算6月25号交名单" in the request that starts the enrollment: the submission date."""
    if ctx.step not in ("intro", JOINED, FIXED) or SUBMIT in ctx.slots:
        return
    try:
        coverage_period(ctx.today)
    except NoPolicyData:
        return  # the introduction says there is nothing to enroll into
    try:
        value = _submit(text, ctx)
    except Invalid:
        return  # asked in its turn, with the reason then
    if value is not None:
        ctx.slots[SUBMIT] = value
