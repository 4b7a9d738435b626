"""Steps 1 and 2: where the unit stands (mode, plans fixed by centralized enrollment, the
submission date) and the platform's prerequisites (account, enrollment code, operator)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flows.enroll.draft import (
    ACCOUNT,
    CODE,
    CODE_VALUE,
    EARLY,
    EARLY_STEP,
    FIXED,
    JOINED,
    MODE,
    OPERATOR,
    ROSTER,
    SUBMIT,
    UNIT,
    UNIT_NAME_CHARS,
    WAIT,
    YEAR,
    answer_extractor,
    buttons,
    mode_of,
    policy_of,
    submitted_on,
    working_day,
)
from flows.extract import (
    QUESTION,
    extract_choice,
    extract_plans,
    find_dates,
    normalize_text,
    policy_span,
)
from flows.flow import FlowContext, Go, Invalid, Step, prefill_slots
from flows.messages import Choice, Reply
from flows.quote_text import refusal_text
from rules.catalog import say
from rules.dates import (
    Mode,
    coverage_period,
    mode_on,
)
from rules.errors import NoPolicyData
from rules.fmt import cn_date
from rules.plans import check_selection
from rules.privacy import contains_personal_data

# --- step 1: where the unit stands ----------------------------------------------------


async def _intro(ctx: FlowContext) -> list[Reply]:
    try:
        policy, mode = mode_on(ctx.today)
        coverage_period(ctx.today)  # on the year's last day a submission starts nothing
    except NoPolicyData as exc:
        return [Reply(say("enroll_closed", reason=exc.message))]
    ctx.slots[MODE], ctx.slots[YEAR] = mode.value, policy.year
    window = policy.windows.centralized
    text = say(
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
    return say("enroll_joined_shown", joined=value)


def _ask_joined(ctx: FlowContext) -> Reply:
    choices = (
        Choice(say("enroll_joined_yes"), "v:是"),
        Choice(say("enroll_joined_no"), "v:没有"),
    )
    return Reply(say("enroll_ask_joined", year=ctx.slots[YEAR]), choices)


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
            raise Invalid(say("not_a_date", value=text.strip()))
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
            raise Invalid(say("enroll_start_past", day=cn_date(day), earliest=_earliest(ctx)))
        if centralized:
            raise Invalid(say("enroll_start_in_window", day=cn_date(day), close=cn_date(close),
                              start=cn_date(policy.coverage.start)))  # fmt: skip
        day -= dt.timedelta(days=1)
    if day < ctx.today:
        raise Invalid(say("enroll_submit_past", day=cn_date(day)))
    if centralized and day > close:
        raise Invalid(say("enroll_submit_after_window", day=cn_date(day), close=cn_date(close)))
    if day >= policy.coverage.end:
        raise Invalid(say("enroll_submit_after_year", end=cn_date(policy.coverage.end)))
    return day.isoformat()


def _earliest(ctx: FlowContext) -> str:
    return cn_date(coverage_period(ctx.today).start)


def _show_submit(value: str, ctx: FlowContext) -> str:
    day = dt.date.fromisoformat(value)
    return say("enroll_submit_shown", day=cn_date(day), start=cn_date(coverage_period(day).start))


def _ask_submit(ctx: FlowContext) -> Reply:
    policy = policy_of(ctx)
    today, tomorrow = ctx.today, ctx.today + dt.timedelta(days=1)
    choices = [Choice(say("enroll_today", day=cn_date(today)), f"v:{today.isoformat()}")]
    last = (
        policy.windows.centralized.close
        if mode_of(ctx) is Mode.CENTRALIZED
        else policy.coverage.end - dt.timedelta(days=1)
    )
    if tomorrow <= last:
        choices.append(Choice(say("enroll_tomorrow", day=cn_date(tomorrow)), f"v:{tomorrow}"))
    text = say(
        "enroll_ask_submit",
        instant=mode_of(ctx) is Mode.INSTANT,
        close=cn_date(policy.windows.centralized.close),
    )
    return Reply(text, tuple(choices))


async def _submit_set(ctx: FlowContext) -> list[Reply]:
    period = coverage_period(submitted_on(ctx))
    text = say(
        "enroll_submit_set",
        submit=cn_date(submitted_on(ctx)),
        start=cn_date(period.start),
        end=cn_date(period.end),
    )
    return [Reply(text)]


# --- step 2: the platform's prerequisites ---------------------------------------------


_account = answer_extractor(
    [
        ("forgot", r"忘|找回|不记得|记不得|记不清|想不起|登不上|登录不了|进不去|重置|密码"),
        ("no", r"^(没|无|还没|不)|没有账号|没注册|未注册|还没有?|没有$|新成立|刚成立"),
        ("yes", r"^(有|是|能|可以|对|嗯|已)|能登|注册过|申工通"),
    ]
)
_CODE_TEXT = r"[A-Za-z0-9]{6,}"
"""An enrollment code typed in the answer ("有，是SH2023001")."""
_code = answer_extractor(
    [
        ("forgot", r"忘|不记得|记不得|记不清|想不起|查不到|找不到|不知道"),
        (
            "no",
            r"^(没|无|还没|不)|新单位|没申请|第一次|没有?(参保)?编码|没有?申请过|还没有?|没有$"
            r"|新成立|刚成立|新注册",
        ),
        ("yes", rf"^(有|是|对|嗯|已|记得)|{_CODE_TEXT}"),
    ]
)
_operator = answer_extractor(
    [
        ("no", r"^(没|无|还没|不|未)|没填|没有填|没弄|没搞|还没|没有$"),
        ("yes", r"^(填过|填了|已|是|有|对|嗯|好|弄好|搞定)|填好|完善|弄好了|搞定了"),
    ]
)
_wait = answer_extractor(
    [
        ("later", r"等|稍后|以后|回头|办好再|下次|晚点"),
        ("continue", r"继续|先|名单|下一步|好"),
    ]
)


_TOPICS = {ACCOUNT: r"账号|帐号|账户|登录|注册", CODE: r"编码", OPERATOR: r"经办人"}
"""The words naming each prerequisite, in corrections and in one message answering several."""


def _show_answer(step: str) -> Callable[[str, FlowContext], str]:
    def show(value: str, ctx: FlowContext) -> str:
        return say(f"enroll_shown_{step}_{value}")

    return show


def prefill_prerequisites(text: str, ctx: FlowContext) -> None:
    """ "账号编码都有，经办人也填了": each clause answers the prerequisite it names."""
    if ctx.step not in _TOPICS:
        return
    extractors = {ACCOUNT: _account, CODE: _code, OPERATOR: _operator}
    for clause in re.split(r"[,，。;；\s]+", normalize_text(text)):
        for slot, words in _TOPICS.items():
            if slot in ctx.slots or not re.search(words, clause):
                continue
            shared = re.sub(rf"({'|'.join(_TOPICS.values())})", "", clause)  # "账号编码都有"
            value = extractors[slot](shared or clause, ctx)
            if value is not None:
                ctx.slots[slot] = value
            if slot == CODE and value == "yes" and (code := _code_value(shared or clause)):
                ctx.slots[CODE_VALUE] = code


def _code_value(text: str) -> str | None:
    """The unit's enrollment code in an answer ("有，是SH2023001"); a phone number is none."""
    found = re.search(_CODE_TEXT, normalize_text(text))
    return found.group(0) if found and not contains_personal_data(found.group(0)) else None


def prefill_code_value(text: str, ctx: FlowContext) -> None:
    """The code said with the answer that the unit has one, kept for the summary."""
    if ctx.step == CODE and _code(text, ctx) == "yes" and (code := _code_value(text)):
        ctx.slots[CODE_VALUE] = code


def _ask_account(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_account"),
        buttons(
            ("enroll_account_yes", "yes"),
            ("enroll_account_no", "no"),
            ("enroll_account_forgot", "forgot"),
        ),
    )


async def _account_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[ACCOUNT] == "no":
        return [Reply(say("enroll_account_no_help"))]
    review = policy_of(ctx).review_working_days
    return [
        Reply(
            say(
                "enroll_account_forgot_help",
                ready_from=working_day(ctx.today, review.account_recovery_min),
                ready_to=working_day(ctx.today, review.account_recovery_max),
            )
        )
    ]


def _ask_code(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_code"),
        buttons(
            ("enroll_code_yes", "yes"), ("enroll_code_no", "no"), ("enroll_code_forgot", "forgot")
        ),
    )


async def _code_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[CODE] == "forgot":
        return [Reply(say("enroll_code_forgot_help"))]
    days = policy_of(ctx).review_working_days.enrollment_code
    return [Reply(say("enroll_code_no_help", ready=working_day(ctx.today, days)))]


def _ask_operator(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_operator"),
        buttons(("enroll_operator_yes", "yes"), ("enroll_operator_no", "no")),
    )


async def _operator_help(ctx: FlowContext) -> list[Reply]:
    return [Reply(say("enroll_operator_no_help"))]


_UNIT_LEAD = re.compile(
    r"^.*?(?:写错了?|错了|不对|改成|改为|更正为|应该是)[,\uff0c:\uff1a\s]*(?:应该)?(?:是|为|叫)?"
)
_UNIT_SAID = re.compile(
    r"^(?:我们|我司|本|咱们)?(?:的)?(?:单位|公司|企业)?的?(?:名称|名字|全称|名)?(?:就)?"
    r"(?:是|叫|叫做|为|[:\uff1a])\s*"
)


_NOT_A_NAME = re.compile(
    r"报价|报个价|测算|保费|多少钱|状态|显示|[0-9一二三四五六七八九十]\s*个人|人工客服"
)


_ORG = re.compile(
    r"(公司|厂|店|馆|中心|所|院|局|会|社|站|部|行|学校|小学|中学|大学|幼儿园|集团|医院|银行|酒店|工作室)$"
)


def _names_unit(text: str) -> bool:
    """Shaped like a unit's name ("上海找人工有限公司"), whatever words it holds."""
    return bool(_ORG.search(normalize_text(text).strip(" 。.")))


def _unit(text: str, ctx: FlowContext) -> str | None:
    """The unit's full name, without the words around it ("我们单位叫…", "全称是…")."""
    name = " ".join(normalize_text(text).split())
    if not name or QUESTION.search(name):
        return None
    if not _names_unit(name) and (extract_plans(name) or _NOT_A_NAME.search(name)):
        return None  # a request ("报个价 8个人 A0 B0 C0"), not the unit's name
    if contains_personal_data(name):  # it would reach the draft, the claims and the summary
        raise Invalid(say("enroll_unit_personal_data"))
    name = _UNIT_SAID.sub("", _UNIT_LEAD.sub("", name, count=1), count=1).strip(" 。.，,")
    name = re.sub(r"[吧啊呀哈哦]+$", "", name)
    low, high = UNIT_NAME_CHARS
    if not low <= len(name) <= high or not re.search(r"[\u4e00-\u9fffA-Za-z]", name):
        raise Invalid(say("enroll_unit_bad"))
    return name


def _prerequisites_missing(ctx: FlowContext) -> bool:
    if ctx.slots.get(JOINED):
        return False
    return (
        ctx.slots.get(ACCOUNT) != "yes"
        or ctx.slots.get(CODE) == "no"
        or ctx.slots.get(OPERATOR) != "yes"
    )


def _ask_wait(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_wait"),
        buttons(("enroll_wait_continue", "continue"), ("enroll_wait_later", "later")),
    )


def _closed(ctx: FlowContext) -> bool:
    return MODE not in ctx.slots


def _instant(ctx: FlowContext) -> bool:
    return mode_of(ctx) is Mode.INSTANT


def _joined_centralized(ctx: FlowContext) -> bool:
    return bool(ctx.slots.get(JOINED))


def _answered(slot: str, value: str) -> Callable[[FlowContext], bool]:
    def holds(ctx: FlowContext) -> bool:
        return bool(ctx.slots.get(slot) == value)

    return holds


def _early_kept(ctx: FlowContext) -> bool:
    """A roster sent before the roster step waits in the draft: it is checked there."""
    return EARLY in ctx.slots


_TO_ROSTER = (Go(EARLY_STEP, when=_early_kept), Go(ROSTER))


async def _paused(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(WAIT, None)  # resuming starts at the roster; the question is answered
    return [Reply(say("enroll_paused", early=EARLY in ctx.slots))]


STEPS = (
    Step("intro", act=_intro,
         transitions=(Go("closed", when=_closed), Go(JOINED, when=_instant), Go(SUBMIT))),
    Step("closed", end=True),
    Step(JOINED, prompt=_ask_joined, extract=_joined,
         transitions=(Go(FIXED, when=_joined_centralized), Go(SUBMIT)),
         corrects=r"集中参保|集中|参加过|参加了|没参加|办过", show=_show_joined),
    Step(FIXED, prompt=lambda ctx: Reply(say("enroll_ask_fixed_plans")), extract=_fixed,
         transitions=(SUBMIT,)),
    Step(SUBMIT, prompt=_ask_submit, extract=_submit, transitions=("submit_set",),
         corrects=r"提交|交名单|日期|时间|起保|生效|号|日|月|周|星期|礼拜|天", show=_show_submit),
    # A unit that joined centralized enrollment this year has done the platform's
    # prerequisites already (handbook: 参加过集中参保的单位无需进行该操作).
    Step("submit_set", act=_submit_set, replay=True,
         transitions=(Go(UNIT, when=_joined_centralized), Go(ACCOUNT))),
    Step(ACCOUNT, prompt=_ask_account, extract=_account,
         transitions=(Go(CODE, when=_answered(ACCOUNT, "yes")), Go("account_help")),
         corrects=_TOPICS[ACCOUNT], show=_show_answer("account")),
    Step("account_help", act=_account_help, transitions=(CODE,)),
    Step(CODE, prompt=_ask_code, extract=_code,
         transitions=(Go(OPERATOR, when=_answered(CODE, "yes")), Go("code_help")),
         corrects=_TOPICS[CODE], show=_show_answer("code")),
    Step("code_help", act=_code_help, transitions=(OPERATOR,)),
    Step(OPERATOR, prompt=_ask_operator, extract=_operator,
         transitions=(Go(UNIT, when=_answered(OPERATOR, "yes")), Go("operator_help")),
         corrects=_TOPICS[OPERATOR], show=_show_answer("operator")),
    Step("operator_help", act=_operator_help, transitions=(UNIT,)),
    Step(UNIT, prompt=lambda ctx: Reply(say("enroll_ask_unit")), extract=_unit,
         literal=_names_unit, transitions=(Go(WAIT, when=_prerequisites_missing), *_TO_ROSTER),
         corrects=r"单位名称|单位名|公司名|名称|全称",
         show=lambda value, ctx: say("enroll_unit_shown", unit=value)),
    Step(WAIT, prompt=_ask_wait, extract=_wait,
         transitions=(Go("paused", when=_answered(WAIT, "later")), *_TO_ROSTER)),
    Step("paused", act=_paused, pause=True, transitions=_TO_ROSTER),
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
