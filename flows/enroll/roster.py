"""Step 3: the roster. The roster question (a file, or the template on request), the fix
question's way on, the head counts the unit checks need, and the unit check with its
attachments. The files themselves are in ``upload``; fixes in chat in ``fixes`` and
``changes``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flows.enroll.changes import fixed_in_chat
from flows.enroll.draft import (
    ATTACHMENTS,
    CODE,
    EARLY_STEP,
    FIX,
    LAST_YEAR,
    MAX_COUNT,
    PLAN_SLOTS,
    ROSTER,
    SI_PAYERS,
    answered,
    counts_of,
    fixed_plans_of,
    policy_of,
    start_of,
)
from flows.enroll.fixes import ask_fix, extract_fix
from flows.enroll.upload import (
    check_early,
    check_roster,
    prepare_upload,
    send_template,
    send_template_to_fix,
)
from flows.extract import (
    QUESTION,
    VAGUE_COUNT,
    extract_count,
    normalize_text,
)
from flows.flow import FlowContext, Go, Invalid, Step
from flows.messages import Choice, Reply
from rules.fmt import cn_date
from rules.roster import (
    check_unit,
)


def _wants_template(text: str) -> bool:
    """ "模板", "发我导入模板" (a question about the template is answered instead)."""
    return text == "模板" or (bool(re.search(r"模板", text)) and not QUESTION.search(text))


def _roster(text: str, ctx: FlowContext) -> str | None:
    if ctx.files:
        return "uploaded"
    return "template" if _wants_template(normalize_text(text)) else None


def _ask_roster(ctx: FlowContext) -> Reply:
    text = ctx.say(
        "enroll_ask_roster",
        start=cn_date(start_of(ctx)),
        max_rows=policy_of(ctx).roster.max_rows_per_file,
    )
    return Reply(text, (Choice(ctx.say("enroll_template_button"), "v:模板"),))


def _uploaded(ctx: FlowContext) -> bool:
    """The message brought a file: the roster to check."""
    return bool(ctx.files)


def _roster_checked(ctx: FlowContext) -> bool:
    """A roster was checked (now, or before and kept when the new one could not be read)."""
    return ROSTER in ctx.slots


def _changes_asked(ctx: FlowContext) -> bool:
    return isinstance(ctx.slots.get(FIX), list)


_UNKNOWN = re.compile(
    r"不.{0,2}清楚|不知道|不晓得|不记得|记不清|记不得|忘了|没印象|不确定|没数|查不到"
    r"|没参保|没有参保|没参加|没办过|没有办|第一年|第一次|头一回|头一次|首次|新单位|没有?$"
)


_SAME = re.compile(r"(跟|和|与)今年(的)?(一样|相同|差不多)|一样多|没变")


def _count(text: str, ctx: FlowContext) -> int | None:
    """A head count; -1 when unknown (or none last year: the ratio decides then)."""
    text = normalize_text(text)
    if QUESTION.search(text):
        return None
    if _SAME.search(text):
        return enrolling(ctx)
    if text == "unknown" or (_UNKNOWN.search(text) and extract_count(text) is None):
        return -1
    if re.search(r"(?:^|[^\d])[-－负]\s*\d", text):
        raise Invalid(ctx.say("enroll_bad_count"))
    if VAGUE_COUNT.search(text):
        raise Invalid(ctx.say("vague_count"))
    value = extract_count(text)
    if value is None:
        return None
    if value > MAX_COUNT:
        raise Invalid(ctx.say("enroll_bad_count"))
    return value


def prefill_counts(text: str, ctx: FlowContext) -> None:
    """ "去年10个，交社保的8个": last year's count and the social-insurance payers at once."""
    if ctx.step not in (LAST_YEAR, SI_PAYERS) or QUESTION.search(text):
        return
    for clause in re.split(r"[,，。;；\s]+", normalize_text(text)):
        slot = LAST_YEAR if "去年" in clause else SI_PAYERS if "社保" in clause else None
        if slot is None or slot in ctx.slots:
            continue
        try:
            value = _count(clause, ctx)
        except Invalid:
            continue
        if value is not None:
            ctx.slots[slot] = value


def _show_count(key: str) -> Callable[[int, FlowContext], str]:
    def show(value: int, ctx: FlowContext) -> str:
        return ctx.say(key, count=value)

    return show


def enrolling(ctx: FlowContext) -> int:
    return sum(counts_of(ctx).values())


def _unit_check_args(ctx: FlowContext) -> dict[str, Any]:
    last_year = ctx.slots.get(LAST_YEAR)
    si_payers = ctx.slots.get(SI_PAYERS)
    return {
        "policy": policy_of(ctx),
        "last_year": None if last_year is None or last_year < 0 else last_year,
        "si_payers": None if si_payers is None or si_payers < 0 else si_payers,
        "new_unit": ctx.slots.get(CODE) == "no",
    }


def _ratio_settled(ctx: FlowContext) -> bool:
    """Last year's count leaves no ratio to check: the payers are not asked."""
    return check_unit(enrolling(ctx), **_unit_check_args(ctx)).ratio_required is False


def _ask_count(key: str) -> Callable[[FlowContext], Reply]:
    def prompt(ctx: FlowContext) -> Reply:
        return Reply(ctx.say(key), (Choice(ctx.say("enroll_unknown"), "v:unknown"),))

    return prompt


async def _unit_check(ctx: FlowContext) -> list[Reply]:
    unit = check_unit(enrolling(ctx), **_unit_check_args(ctx))
    ctx.slots[ATTACHMENTS] = [[a.name, a.reason, a.conditional] for a in unit.attachments]
    text = ctx.say("enroll_unit_result", notes=unit.notes, attachments=unit.attachments)
    return [Reply(text)]


def _plans_fixed(ctx: FlowContext) -> bool:
    return bool(fixed_plans_of(ctx))


_AFTER_CHECK = (Go(FIX, when=_roster_checked), Go(ROSTER))


STEPS = (
    Step(ROSTER, prompt=_ask_roster, extract=_roster, accepts_files=True, prepare=prepare_upload,
         transitions=(Go("send_template", when=answered(ROSTER, "template")),
                      Go("check_roster", when=_uploaded), Go(FIX))),
    Step("send_template", act=send_template, transitions=(ROSTER,)),
    Step("check_roster", act=check_roster, transitions=_AFTER_CHECK),
    Step(EARLY_STEP, act=check_early, transitions=_AFTER_CHECK),
    Step(FIX, prompt=ask_fix, extract=extract_fix, accepts_files=True, prepare=prepare_upload,
         transitions=(Go("check_roster", when=answered(FIX, "uploaded")),
                      Go("fixed_in_chat", when=_changes_asked),
                      Go("fix_template", when=answered(FIX, "template")),
                      Go(SI_PAYERS, when=answered(CODE, "no")), Go(LAST_YEAR))),
    Step("fixed_in_chat", act=fixed_in_chat, transitions=(FIX,)),
    Step("fix_template", act=send_template_to_fix, transitions=(FIX,)),
    Step(LAST_YEAR, prompt=_ask_count("enroll_ask_last_year"), extract=_count,
         transitions=(Go("unit_check", when=_ratio_settled), Go(SI_PAYERS)),
         corrects=r"去年", show=_show_count("enroll_last_year_shown")),
    Step(SI_PAYERS, prompt=_ask_count("enroll_ask_si_payers"), extract=_count,
         transitions=("unit_check",), corrects=r"缴社保|交社保|社保人数|缴费人数|参保人数",
         show=_show_count("enroll_si_payers_shown")),
    Step("unit_check", act=_unit_check, replay=True,
         transitions=(Go("plans_review", when=_plans_fixed), Go(PLAN_SLOTS["A"]))),
)  # fmt: skip
