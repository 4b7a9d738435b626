"""Short guided flows: coverage dates and waiting periods, account help, batch status."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Any

from flows.extract import (
    extract_choice,
    mention_within,
    mentions_date,
    normalize_text,
    policy_span,
)
from flows.flow import Flow, FlowContext, Invalid, Step, asking, prefill_slots, steps
from flows.messages import Choice, Reply
from rules.batch import lifecycle
from rules.catalog import say
from rules.dates import (
    CoveragePeriod,
    Mode,
    coverage_period,
    submission_for,
    waiting_periods,
    year_named,
)
from rules.errors import NoPolicyData
from rules.fmt import cn_date
from rules.policy import (
    PolicyYear,
    PricingTier,
    Series,
    latest_policy_year,
    policy_for_enrollment_date,
    policy_in_force,
)

# --- coverage and waiting periods ------------------------------------------------------

_COVERAGE_WORDS = re.compile(
    r"开始保|起保|生效|保障期|免责|等待期|观察期|多久.{0,4}赔|什么时候.{0,4}赔|几号.{0,4}保"
    r"|算集中|算即时|集中还是即时|即时还是集中|属于集中|属于即时|有没有保障|能不能赔"
    r"|保障到|保到|保多久|保障多久|保障期限|哪天开始|几号开始"
    r"|(哪天|什么时候|啥时候|几号|多久|多长时间).{0,6}(保障|赔|能用|可以用|生效|起保|开始|有保)"
)


def asks_coverage(text: str) -> bool:
    """ "我们7月15日提交名单，什么时候开始保？重疾多久后能赔？": a date and a coverage word."""
    return asks_about_coverage(text) and mentions_date(text)


def _span(today: dt.date) -> tuple[dt.date, dt.date] | None:
    try:
        return policy_span(policy_for_enrollment_date(today))
    except NoPolicyData:
        return None


def _submitted(text: str, ctx: FlowContext) -> str | None:
    """The submission day; a start date (起保) is turned back into the day it needs."""
    found = mention_within(text, ctx.today, coverage_period, _span(ctx.today))
    if found is None:
        return None
    day = found.day
    if found.role == "start":
        day = submission_for(day, ctx.today)
        try:
            coverage_period(day)
        except NoPolicyData as exc:
            raise Invalid(exc.message) from None
    return day.isoformat()


def asks_about_coverage(text: str) -> bool:
    """A coverage question without a date ("那重疾什么时候开始能赔"), after a result that
    lends one."""
    return bool(_COVERAGE_WORDS.search(normalize_text(text)))


def _show_submitted(value: str, ctx: FlowContext) -> str:
    return ctx.say("coverage_submitted_shown", day=cn_date(dt.date.fromisoformat(value)))


def waiting_lines(
    period: CoveragePeriod, policy: PolicyYear, series: Collection[Series] | None = None
) -> list[dict[str, object]]:
    """Each series' waiting period as the texts show it (only ``series`` if given); one
    that ends after the coverage period (a start in the year's last weeks) says so."""
    return [
        {
            "text": say(
                "waiting_line",
                policy=policy,
                name=w.series_name,
                days=w.days,
                first=cn_date(w.covered_from),
                note=w.note,
                beyond=w.covered_from > period.end,
                end=cn_date(period.end),
            )
        }
        for w in waiting_periods(period, policy)
        if series is None or w.series in series
    ]


async def _coverage_answer(ctx: FlowContext) -> list[Reply]:
    submitted = dt.date.fromisoformat(ctx.slots["submitted"])
    period = coverage_period(submitted)
    values: dict[str, Any] = {
        "submitted": cn_date(submitted),
        "start": cn_date(period.start),
        "end": cn_date(period.end),
    }
    policy = policy_for_enrollment_date(submitted)
    if named := year_named(policy):  # a year the operators installed says which it is
        values["submitted"] = named.text + values["submitted"]
    if period.mode is Mode.CENTRALIZED:
        return [Reply(say("coverage_centralized", policy=policy, **values))]
    tier = policy.price_tier(period.start)
    half = tier.tier is PricingTier.HALF_YEAR
    return [
        Reply(
            say("coverage_instant", policy=policy, waits=waiting_lines(period, policy),
                half_year=half, tier_from=cn_date(tier.start_from), **values)
        )
    ]  # fmt: skip


def _coverage_shares(ctx: FlowContext) -> dict[str, Any]:
    """A quote asked right after a coverage answer starts on that answer's start date."""
    submitted = ctx.slots.get("submitted")
    if not submitted:
        return {}
    return {"start": coverage_period(dt.date.fromisoformat(submitted)).start.isoformat()}


COVERAGE = Flow(
    name="coverage",
    title=say("flows.coverage_title"),
    start="submitted",
    shares=_coverage_shares,
    prefill=prefill_slots({"submitted": _submitted}),
    steps=steps(
        Step(
            "submitted",
            prompt=asking(lambda ctx: ctx.say("coverage_ask_date"), "submitted"),
            extract=_submitted,
            transitions=("answer",),
            corrects=r"提交|交|报|起保|生效|日期|号|日|月|周|星期|礼拜|天",
            show=_show_submitted,
        ),
        Step("answer", act=_coverage_answer, end=True),
    ),
)

# --- account help ----------------------------------------------------------------------


def _has_union(text: str, ctx: FlowContext) -> bool | None:
    return extract_choice(
        text, no=r"没有?工会|无工会|未建会|没建会", yes=r"有工会|有上级工会|建会"
    )


def _ask_union(ctx: FlowContext) -> Reply:
    yes = Choice(ctx.say("flows.account_union_yes"), "v:有")
    return Reply(
        ctx.say("account_ask_union"), (yes, Choice(ctx.say("flows.account_union_no"), "v:没有"))
    )


async def _account_answer(ctx: FlowContext) -> list[Reply]:
    return [Reply(ctx.say("account_union" if ctx.slots["has_union"] else "account_no_union"))]


ACCOUNT = Flow(
    name="account",
    title=say("flows.account_title"),
    start="has_union",
    steps=steps(
        Step("has_union", prompt=_ask_union, extract=_has_union, transitions=("answer",)),
        Step("answer", act=_account_answer, end=True),
    ),
)

# --- batch status guide ----------------------------------------------------------------

_STATUS_QUESTION = re.compile(
    r"状态|能干|能做|可以做|可以干|下一步|怎么办|该做|该干|什么意思|怎么操作|多久|要等|然后呢"
    r"|干啥|做啥|干什么|做什么|要干|要做|以后|之后|接下来|咋办|咋弄|咋整|怎么弄|怎么搞"
)


def status_guide(status: str, ctx: FlowContext) -> Reply:
    lc = lifecycle()
    info = lc.statuses[status]
    actions = []
    for t in info.actions:
        action = lc.actions[t.action]
        leads = "或".join(
            lc.statuses[s].label for s in (t.to, t.alt) if s is not None and s != status
        )
        actions.append({"label": action.label, "how": action.how, "leads": leads})
    review = (policy_in_force(ctx.today) or latest_policy_year()).review_working_days
    wait_days = getattr(review, info.waits_for) if info.waits_for else None
    text = ctx.say(
        "status_guide", label=info.label, meaning=info.meaning, actions=actions,
        wait_days=wait_days,
    )  # fmt: skip
    return Reply(text)


async def status_shortcut(text: str, ctx: FlowContext) -> list[Reply] | None:
    """ "状态是缴费凭证待上传，现在能干嘛": what can be done now, and where it leads."""
    status = find_status(text)
    if status is None or not _STATUS_QUESTION.search(text):
        return None
    return [status_guide(status, ctx)]


def find_status(text: str) -> str | None:
    """The batch status a message names: its platform label, 没通过 read as 不通过, or a
    label's tail when only one label ends that way ("凭证待上传")."""
    lc = lifecycle()
    text = re.sub(r"没通过|未通过|没有通过|没过", "不通过", normalize_text(text))
    if (found := lc.find(text)) is not None:
        return found
    for name, status in lc.statuses.items():  # "凭证还没传"
        if any(re.search(pattern, text) for pattern in status.said):
            return name
    tails = {
        name: s.label[cut:]
        for name, s in lc.statuses.items()
        for cut in range(1, len(s.label) - 3)
        if s.label[cut:] in text
    }
    return next(iter(tails)) if len(tails) == 1 else None


def _status(text: str, ctx: FlowContext) -> str | None:
    return find_status(text)


def _ask_status(ctx: FlowContext) -> Reply:
    choices = tuple(
        Choice(s.label, f"v:{s.label}")
        for name, s in lifecycle().statuses.items()
        if name != "deleted"
    )
    return Reply(ctx.say("status_ask"), choices)


async def _status_answer(ctx: FlowContext) -> list[Reply]:
    return [status_guide(ctx.slots["status"], ctx)]


STATUS = Flow(
    name="status",
    title=say("flows.status_title"),
    start="status",
    prefill=prefill_slots({"status": _status}),
    steps=steps(
        Step(
            "status",
            prompt=_ask_status,
            extract=_status,
            transitions=("answer",),
            corrects=r"待|通过|成功|删除|审核|校验|上传|状态",
            show=lambda value, ctx: ctx.say(
                "status_shown", label=lifecycle().statuses[value].label
            ),
        ),
        Step("answer", act=_status_answer, end=True),
    ),
)
