"""Step 5: the summary. Premium, dates, account and deadlines, the clean roster and the
summary workbook, and the numbered clicks on the platform."""

from __future__ import annotations

import re
from dataclasses import replace

from flows.enroll.draft import (
    ACCOUNT,
    ATTACHMENTS,
    CLEAN_FILE,
    CODE,
    CODE_VALUE,
    JOINED,
    OPERATOR,
    SUMMARY_FILE,
    UNIT,
    counts_of,
    estimated,
    fixed_plans_of,
    mode_of,
    people_of,
    policy_of,
    sealed_people,
    submitted_on,
    working_day,
)
from flows.enroll.plans import quote_of
from flows.flow import FlowContext, Step
from flows.guides import waiting_lines
from flows.messages import Choice, OutgoingFile, Reply
from flows.quote_text import quote_json, render_quote
from rules.batch import lifecycle
from rules.dates import (
    MODE_LABELS,
    Mode,
    coverage_period,
)
from rules.dates import transfer_deadline as payment_deadline
from rules.fmt import cn_date, yuan
from rules.people import Category
from rules.premium import UnitQuote
from sheets.enroll_files import (
    clean_roster_bytes,
    summary_workbook_bytes,
)


async def _summary(ctx: FlowContext) -> list[Reply]:
    policy = policy_of(ctx)
    submitted = submitted_on(ctx)
    period = coverage_period(submitted)
    quote = quote_of(ctx)
    chosen = {policy.plan(c).series for c in quote.plans}
    # Centralized enrollment has no waiting period: the text says so instead.
    waits = waiting_lines(period, policy, chosen) if period.mode is Mode.INSTANT else []
    deadline = cn_date(payment_deadline(submitted, policy))
    head = ctx.say(
        "enroll_summary_head",
        unit=ctx.slots[UNIT],
        mode=MODE_LABELS[period.mode],
        submit=cn_date(submitted),
    )
    dates = ctx.say(
        "enroll_summary_dates", start=cn_date(period.start), end=cn_date(period.end), waits=waits
    )
    money = ctx.say(
        "enroll_summary_money",
        deadline=deadline,
        submit=cn_date(submitted),
        total=yuan(quote.total),
    )
    text = "\n\n".join([head, render_quote(quote), dates, money])
    checklist = ctx.say("enroll_checklist", steps=_checklist(ctx, quote, deadline))
    files = _files(ctx, quote, deadline)
    again = "quote" in ctx.slots  # a summary redone after a change of plans or dates
    ctx.slots["quote"] = quote_json(quote)  # the draft keeps what was quoted
    choices = (
        Choice(ctx.labels["status"], "flow:status"),
        Choice(ctx.say("menu_label"), "cmd:start"),
    )
    if files is None:
        lost = ctx.say("enroll_files_sent_before" if again else "enroll_sealed_lost")
        return [Reply(text), Reply(f"{checklist}\n{lost}", choices)]
    caption = ctx.say("enroll_files", people=sum(counts_of(ctx).values()))
    return [Reply(text), Reply(f"{checklist}\n{caption}", choices, files)]


_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def unit_file(ctx: FlowContext, base: str) -> str:
    """The file ``base`` (a catalog key) named for this unit and submission date
    ("甲公司_参保汇总_20230710.xlsx"): two units' files saved in one folder never replace
    each other."""
    unit = _NOT_IN_FILE_NAMES.sub("", str(ctx.slots[UNIT])).strip(" .")[:40] or "单位"
    stem, dot, suffix = ctx.say(base).rpartition(".")
    return f"{unit}_{stem}_{submitted_on(ctx):%Y%m%d}{dot}{suffix}"


def _files(ctx: FlowContext, quote: UnitQuote, deadline: str) -> tuple[OutgoingFile, ...] | None:
    sealed = sealed_people(ctx)
    if sealed is None:
        return None
    policy = policy_of(ctx)
    people = []
    for p in people_of(ctx):
        person = sealed.get(p.row)
        if person is None or p.conflict or p.category is Category.OVER_AGE:
            continue
        # "设为在职" in chat: the clean file says 是 in 是否有社保, as the platform needs.
        person = replace(person, has_social_insurance=p.si)
        people.append((person, p.category, p.masked))
    clean = clean_roster_bytes([person for person, _, _ in people], policy)
    summary = summary_workbook_bytes(
        unit=ctx.slots[UNIT],
        mode=MODE_LABELS[mode_of(ctx)],
        submitted=submitted_on(ctx),
        quote=quote,
        people=[(person.row, person.name, masked, cat) for person, cat, masked in people],
        deadline=deadline,
        policy=policy,
        attachments=[(a[0], a[1]) for a in ctx.slots.get(ATTACHMENTS) or []],
    )
    count = len(people)
    return (
        OutgoingFile(
            unit_file(ctx, CLEAN_FILE), clean, ctx.say("enroll_clean_caption", people=count)
        ),
        OutgoingFile(unit_file(ctx, SUMMARY_FILE), summary, ctx.say("enroll_summary_caption")),
    )


def _checklist(ctx: FlowContext, quote: UnitQuote, deadline: str) -> list[str]:
    policy = policy_of(ctx)
    statuses = lifecycle().statuses
    review = policy.review_working_days
    submitted = submitted_on(ctx)
    label = {name: s.label for name, s in statuses.items()}
    steps_: list[str] = []
    if ctx.slots.get(ACCOUNT) == "no":
        steps_.append(ctx.say("enroll_step_register"))
    elif ctx.slots.get(ACCOUNT) == "forgot":
        steps_.append(ctx.say("enroll_step_recover"))
    steps_.append(ctx.say("enroll_step_login"))
    if ctx.slots.get(CODE) == "no":
        ready = working_day(ctx.today, review.enrollment_code)
        step = ctx.say("enroll_step_code", ready=ready)
        steps_.append(estimated(step, ctx.today, review.enrollment_code))
    if ctx.slots.get(OPERATOR) != "yes" and not ctx.slots.get(JOINED):
        steps_.append(ctx.say("enroll_step_operator"))
    entry = ctx.say("enroll.platform_entry", centralized=mode_of(ctx) is Mode.CENTRALIZED)
    steps_.append(
        ctx.say("enroll_step_batch", entry=entry, unit=ctx.slots[UNIT],
            code=ctx.slots.get(CODE_VALUE), forgot=ctx.slots.get(CODE) == "forgot",
            pending=label["roster_pending_validation"])
    )  # fmt: skip
    steps_.append(ctx.say("enroll_step_upload", clean_file=unit_file(ctx, CLEAN_FILE)))
    kept = sum(1 for p in people_of(ctx) if p.over and p.keep and not p.conflict)
    steps_.append(ctx.say("enroll_step_validate", kept=kept, passed=label["validation_passed"]))
    attachments = ctx.slots.get(ATTACHMENTS) or []
    if attachments:
        names = "、".join(a[0] for a in attachments if not a[2])
        if any(a[2] for a in attachments):
            names += (
                ctx.say("enroll_supporting_documents")
                if names
                else ctx.say("enroll_supporting_only")
            )
        ready = working_day(submitted, review.attachments)
        step = ctx.say(
            "enroll_step_attachments", names=names, review=label["attachment_review"],
            ready=ready, submit=cn_date(submitted), plan_selection=label["plan_selection"],
        )  # fmt: skip
        steps_.append(estimated(step, submitted, review.attachments))
    fixed = fixed_plans_of(ctx)
    if not fixed:
        if not attachments:
            steps_.append(ctx.say("enroll_step_submit", plan_selection=label["plan_selection"]))
        steps_.append(
            ctx.say("enroll_step_plans", plans="、".join(quote.plans), total=yuan(quote.total),
                voucher_pending=label["voucher_pending"])
        )  # fmt: skip
    else:
        steps_.append(
            ctx.say("enroll_step_fixed_plans", plans="、".join(fixed), total=yuan(quote.total),
                voucher_pending=label["voucher_pending"])
        )  # fmt: skip
    step = ctx.say("enroll_step_pay", total=yuan(quote.total), deadline=deadline,
        voucher_review=label["voucher_review"], submit=cn_date(submitted),
        ready=working_day(submitted, review.voucher))  # fmt: skip
    steps_.append(estimated(step, submitted, review.voucher))
    steps_.append(ctx.say("enroll_step_done", enrolled=label["enrolled"]))
    return steps_


STEPS = (
    Step("summary", act=_summary, end=True),
)  # fmt: skip
