"""Step 2: the platform's prerequisites (account, enrollment code, operator details), each
"no" answered with the path and the review dates; the unit's name; and the choice to go
on to the roster or come back later."""

from __future__ import annotations

import re
from collections.abc import Callable

from flows.enroll.draft import (
    ACCOUNT,
    CODE,
    CODE_VALUE,
    EARLY,
    EARLY_STEP,
    JOINED,
    OPERATOR,
    ROSTER,
    UNIT,
    UNIT_NAME_CHARS,
    WAIT,
    answer_extractor,
    answered,
    buttons,
    estimated,
    policy_of,
    working_day,
)
from flows.extract import (
    QUESTION,
    extract_plans,
    normalize_text,
)
from flows.flow import FlowContext, Go, Invalid, Step
from flows.messages import Reply
from rules.privacy import contains_personal_data

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
        return ctx.say(f"enroll_shown_{step}_{value}")

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


def _code_said(text: str) -> dict[str, str]:
    """The code said with the answer that the unit has one, kept for the summary."""
    code = _code_value(text)
    return {CODE_VALUE: code} if code else {}


def _show_code(value: str, ctx: FlowContext) -> str:
    code = ctx.slots.get(CODE_VALUE) if value == "yes" else None
    return (
        ctx.say("enroll.shown_code_value", code=code)
        if code
        else ctx.say(f"enroll_shown_code_{value}")
    )


def _ask_account(ctx: FlowContext) -> Reply:
    return Reply(
        ctx.say("enroll_ask_account"),
        buttons(
            ("enroll_account_yes", "yes"),
            ("enroll_account_no", "no"),
            ("enroll_account_forgot", "forgot"),
        ),
    )


async def _account_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[ACCOUNT] == "no":
        return [Reply(ctx.say("enroll_account_no_help"))]
    review = policy_of(ctx).review_working_days
    text = ctx.say(
        "enroll_account_forgot_help",
        ready_from=working_day(ctx.today, review.account_recovery_min),
        ready_to=working_day(ctx.today, review.account_recovery_max),
    )
    return [Reply(estimated(text, ctx.today, review.account_recovery_max))]


def _ask_code(ctx: FlowContext) -> Reply:
    return Reply(
        ctx.say("enroll_ask_code"),
        buttons(
            ("enroll_code_yes", "yes"), ("enroll_code_no", "no"), ("enroll_code_forgot", "forgot")
        ),
    )


async def _code_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[CODE] == "forgot":
        return [Reply(ctx.say("enroll_code_forgot_help"))]
    days = policy_of(ctx).review_working_days.enrollment_code
    text = ctx.say("enroll_code_no_help", ready=working_day(ctx.today, days))
    return [Reply(estimated(text, ctx.today, days))]


def _ask_operator(ctx: FlowContext) -> Reply:
    return Reply(
        ctx.say("enroll_ask_operator"),
        buttons(("enroll_operator_yes", "yes"), ("enroll_operator_no", "no")),
    )


async def _operator_help(ctx: FlowContext) -> list[Reply]:
    return [Reply(ctx.say("enroll_operator_no_help"))]


_UNIT_LEAD = re.compile(
    r"^.*?(?:写错了?|错了|不对|改成|改为|更正为|应该是)[,，:：\s]*(?:应该)?(?:是|为|叫)?"
)


_UNIT_SAID = re.compile(
    r"^(?:我们|我司|本|咱们)?(?:的)?(?:单位|公司|企业)?的?(?:名称|名字|全称|名)?(?:就)?"
    r"(?:是|叫|叫做|为|[:：])\s*"
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
        raise Invalid(ctx.say("enroll_unit_personal_data"))
    name = _UNIT_SAID.sub("", _UNIT_LEAD.sub("", name, count=1), count=1).strip(" 。.，,")
    name = re.sub(r"[吧啊呀哈哦]+$", "", name)
    low, high = UNIT_NAME_CHARS
    if not low <= len(name) <= high or not re.search(r"[\u4e00-\u9fffA-Za-z]", name):
        raise Invalid(ctx.say("enroll_unit_bad"))
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
        ctx.say("enroll_ask_wait"),
        buttons(("enroll_wait_continue", "continue"), ("enroll_wait_later", "later")),
    )


def early_kept(ctx: FlowContext) -> bool:
    """A roster sent before the roster step waits in the draft: it is checked there."""
    return EARLY in ctx.slots


TO_ROSTER = (Go(EARLY_STEP, when=early_kept), Go(ROSTER))


async def _paused(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(WAIT, None)  # resuming starts at the roster; the question is answered
    return [Reply(ctx.say("enroll_paused", early=EARLY in ctx.slots))]


STEPS = (
    Step(ACCOUNT, prompt=_ask_account, extract=_account,
         transitions=(Go(CODE, when=answered(ACCOUNT, "yes")), Go("account_help")),
         corrects=_TOPICS[ACCOUNT], show=_show_answer("account")),
    Step("account_help", act=_account_help, transitions=(CODE,)),
    Step(CODE, prompt=_ask_code, extract=_code,
         transitions=(Go(OPERATOR, when=answered(CODE, "yes")), Go("code_help")),
         corrects=_TOPICS[CODE], show=_show_code, also=_code_said),
    Step("code_help", act=_code_help, transitions=(OPERATOR,)),
    Step(OPERATOR, prompt=_ask_operator, extract=_operator,
         transitions=(Go(UNIT, when=answered(OPERATOR, "yes")), Go("operator_help")),
         corrects=_TOPICS[OPERATOR], show=_show_answer("operator")),
    Step("operator_help", act=_operator_help, transitions=(UNIT,)),
    Step(UNIT, prompt=lambda ctx: Reply(ctx.say("enroll_ask_unit")), extract=_unit,
         literal=_names_unit, transitions=(Go(WAIT, when=_prerequisites_missing), *TO_ROSTER),
         corrects=r"单位名称|单位名|公司名|名称|全称",
         show=lambda value, ctx: ctx.say("enroll_unit_shown", unit=value)),
    Step(WAIT, prompt=_ask_wait, extract=_wait,
         transitions=(Go("paused", when=answered(WAIT, "later")), *TO_ROSTER)),
    Step("paused", act=_paused, pause=True, transitions=TO_ROSTER),
)  # fmt: skip
