"""Guided enrollment for small units (我要参保), end to end in chat.

1. Where the unit stands: today's date decides centralized or instant enrollment; an
   instant unit that joined centralized enrollment keeps its plans; the submission date
   fixes the coverage start.
2. The platform's prerequisites: account, enrollment code, operator details, each "no"
   answered with the path and the review dates; the user continues or comes back later.
3. The roster: the template on request, the upload checked row by row, fixes by re-upload
   or in chat, the unit checks and the attachments they call for.
4. Plans, one series at a time, with the rules applied and the running premium.
5. The summary: premium per person and in total, dates, account, deadlines, files, and
   the numbered clicks on the platform.

The draft lives in the flow's slots (parked when the user leaves, so "继续参保" resumes
it). People are kept as keyed ID hashes and masked numbers; the rows needed to write the
clean roster are sealed by the vault and dropped once the summary is delivered.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from flows.enroll_files import (
    clean_roster_bytes,
    report_bytes,
    summary_workbook_bytes,
    template_bytes,
)
from flows.extract import (
    cn_int,
    extract_choice,
    extract_day,
    extract_plans,
    normalize_text,
)
from flows.flow import Flow, FlowContext, Invalid, Step, steps
from flows.messages import Choice, OutgoingFile, Reply
from flows.quote_text import render_quote
from flows.roster_file import FileFinding, RosterFile, read_roster_bytes
from flows.storage import PersonClaim
from flows.texts import say
from flows.vault import Vault
from rules.batch import lifecycle
from rules.dates import (
    MODE_LABELS,
    Mode,
    add_working_days,
    coverage_period,
    mode_on,
    waiting_periods,
)
from rules.dates import transfer_deadline as payment_deadline
from rules.errors import CalendarUnavailable, NoPolicyData
from rules.fmt import cn_date, yuan
from rules.ids import DocType, Sex, mask_id
from rules.people import Category, age_limit
from rules.plans import check_selection
from rules.policy import PolicyYear, Series, policy_for_enrollment_date
from rules.premium import UnitQuote, person_premium, quote_unit
from rules.roster import Person, RosterCheck, check_rows, check_unit

# Slots. Answers to questions carry the step's name; the draft's own data is prefixed.
JOINED, FIXED, SUBMIT = "joined", "fixed_plans", "submit"
ACCOUNT, CODE, OPERATOR, UNIT, WAIT = "account", "code", "operator", "unit", "wait"
ROSTER, FIX, LAST_YEAR, SI_PAYERS = "roster", "roster_ok", "last_year", "si_payers"
SERIES: tuple[Series, ...] = ("A", "B", "C")
PLAN_SLOTS = {s: f"plan_{s}" for s in SERIES}
MODE, YEAR, PEOPLE, ERRORS, SEALED = "mode", "year", "people", "errors", "sealed"
FILE, ROWS, ATTACHMENTS, PLANS, CODE_VALUE = "file", "rows", "attachments", "plans", "code_no"

SHOWN_LINES = 12
SHOWN_REMOVALS = 5
"""Roster problems listed in chat; the annotated workbook has all of them."""
UNIT_NAME_CHARS = (4, 60)
MAX_COUNT = 1_000_000
CLEAN_FILE = "参保名单（可导入）.xlsx"
SUMMARY_FILE = "参保汇总.xlsx"

_QUESTION = re.compile(r"[?？]|怎么|如何|什么|哪|吗|呢|多少|能否|可不可以|是否")


def wants_enrollment(text: str) -> bool:
    """ "我要参保", "我要给员工参保", "继续参保", "开始办理参保": not questions about it."""
    text = normalize_text(text)
    if len(text) > 20 or _QUESTION.search(text):
        return False
    return bool(
        re.search(r"(我要|我想|想|要|帮我|给|开始|继续|接着|办理?).{0,8}(参保|投保)", text)
    )


# --- the draft's facts ----------------------------------------------------------------


def _policy(ctx: FlowContext) -> PolicyYear:
    return policy_for_enrollment_date(ctx.today)


def _mode(ctx: FlowContext) -> Mode:
    return Mode(ctx.slots[MODE])


def _submitted(ctx: FlowContext) -> dt.date:
    return dt.date.fromisoformat(ctx.slots[SUBMIT])


def _coverage_start(ctx: FlowContext) -> dt.date:
    return coverage_period(_submitted(ctx)).start


def _fixed_plans(ctx: FlowContext) -> list[str] | None:
    return ctx.slots.get(FIXED) if ctx.slots.get(JOINED) else None


def _people(ctx: FlowContext) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = ctx.slots.setdefault(PEOPLE, [])
    return people


def _category(person: dict[str, Any]) -> Category:
    """The person's category after the decisions made in chat."""
    if not person["si"]:
        return Category.NON_ZHIBAO
    if person["over"] and not person["keep"]:
        return Category.OVER_AGE
    return Category.ZHIBAO


def _counts(ctx: FlowContext) -> dict[Category, int]:
    counts = {Category.ZHIBAO: 0, Category.NON_ZHIBAO: 0}
    for person in _people(ctx):
        category = _category(person)
        if category in counts and not person.get("conflict"):
            counts[category] += 1
    return counts


def _vault(ctx: FlowContext) -> Vault:
    vault = ctx.services.get("vault")
    if not isinstance(vault, Vault):
        raise RuntimeError("the enrollment flow needs a vault service")
    return vault


def _sealed_people(ctx: FlowContext) -> dict[int, Person] | None:
    """The roster rows sealed at upload, by row, or None if they cannot be opened."""
    token = ctx.slots.get(SEALED)
    rows = _vault(ctx).unseal(token) if isinstance(token, str) else None
    if not isinstance(rows, list):
        return None
    out = {}
    for r in rows:
        row, name, doc, number, sex, birth, phone, si, category = r
        out[row] = Person(
            row=row,
            name=name,
            doc_type=DocType(doc),
            number=number,
            sex=Sex(sex),
            birth_date=dt.date.fromisoformat(birth),
            phone=phone,
            has_social_insurance=si,
            category=Category(category),
        )
    return out


def _seal(people: Iterable[Person]) -> list[list[Any]]:
    return [
        [p.row, p.name, p.doc_type.value, p.number, p.sex.value, p.birth_date.isoformat(),
         p.phone, p.has_social_insurance, p.category.value]
        for p in people
    ]  # fmt: skip


def _names(ctx: FlowContext) -> dict[int, str]:
    sealed = _sealed_people(ctx) or {}
    return {row: p.name for row, p in sealed.items()}


def _claim(ctx: FlowContext) -> None:
    """This draft's people claim their IDs for the year (one enrollment per ID per year)."""
    claims = tuple(
        PersonClaim(p["hash"], p["masked"]) for p in _people(ctx) if not p.get("conflict")
    )
    ctx.turn.claims = (ctx.slots[YEAR], ctx.slots[UNIT], claims)


def _working_day(start: dt.date, days: int) -> str | None:
    """The date a review of ``days`` working days ends, or None without a calendar."""
    try:
        return cn_date(add_working_days(start, days))
    except CalendarUnavailable:
        return None


# --- step 1: where the unit stands ----------------------------------------------------


async def _intro(ctx: FlowContext) -> list[Reply]:
    try:
        policy, mode = mode_on(ctx.today)
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


def _after_intro(ctx: FlowContext) -> str:
    if MODE not in ctx.slots:
        return "closed"
    return JOINED if _mode(ctx) is Mode.INSTANT else SUBMIT


def _joined(text: str, ctx: FlowContext) -> bool | None:
    return extract_choice(
        text, no=r"没参加|没有参加|未参加|没办|没有办|第一次", yes=r"参加过|参加了|办过|办了"
    )


def _ask_joined(ctx: FlowContext) -> Reply:
    choices = (
        Choice(say("enroll_joined_yes"), "v:是"),
        Choice(say("enroll_joined_no"), "v:没有"),
    )
    return Reply(say("enroll_ask_joined", year=ctx.slots[YEAR]), choices)


def _plans_in(text: str) -> tuple[str, ...] | None:
    return extract_plans(text)


def _fixed(text: str, ctx: FlowContext) -> list[str] | None:
    plans = _plans_in(text)
    if plans is None:
        return None
    check = check_selection(plans, _policy(ctx))
    if not check.accepted:
        reasons = "\n".join(f"· {r.message}" for r in check.refusals)
        raise Invalid(f"{say('enroll_plans_refused')}\n{reasons}")
    return list(check.plans)


def _submit(text: str, ctx: FlowContext) -> str | None:
    day = extract_day(text, ctx.today)
    if day is None:
        return None
    policy = _policy(ctx)
    if day < ctx.today:
        raise Invalid(say("enroll_submit_past", day=cn_date(day)))
    close = policy.windows.centralized.close
    if _mode(ctx) is Mode.CENTRALIZED and day > close:
        raise Invalid(say("enroll_submit_after_window", day=cn_date(day), close=cn_date(close)))
    if day >= policy.coverage.end:
        raise Invalid(say("enroll_submit_after_year", end=cn_date(policy.coverage.end)))
    return day.isoformat()


def _ask_submit(ctx: FlowContext) -> Reply:
    policy = _policy(ctx)
    today, tomorrow = ctx.today, ctx.today + dt.timedelta(days=1)
    choices = [Choice(say("enroll_today", day=cn_date(today)), f"v:{today.isoformat()}")]
    if _mode(ctx) is Mode.INSTANT or tomorrow <= policy.windows.centralized.close:
        choices.append(Choice(say("enroll_tomorrow", day=cn_date(tomorrow)), f"v:{tomorrow}"))
    text = say(
        "enroll_ask_submit",
        instant=_mode(ctx) is Mode.INSTANT,
        close=cn_date(policy.windows.centralized.close),
    )
    return Reply(text, tuple(choices))


async def _submit_set(ctx: FlowContext) -> list[Reply]:
    period = coverage_period(_submitted(ctx))
    text = say(
        "enroll_submit_set",
        submit=cn_date(_submitted(ctx)),
        start=cn_date(period.start),
        end=cn_date(period.end),
    )
    return [Reply(text)]


# --- step 2: the platform's prerequisites ---------------------------------------------


def _answer(
    patterns: Sequence[tuple[str, str]],
) -> Callable[[str, FlowContext], str | None]:
    """An extractor mapping the first matching pattern (or a button value) to its answer."""
    values = {value for value, _ in patterns}

    def extract(text: str, ctx: FlowContext) -> str | None:
        text = normalize_text(text)
        if text in values:
            return text
        if _QUESTION.search(text):
            return None  # a side question, answered by the knowledge base
        for value, pattern in patterns:
            if re.search(pattern, text):
                return value
        return None

    return extract


def _buttons(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(say(label), f"v:{value}") for label, value in pairs)


_account = _answer(
    [
        ("forgot", r"忘|找回|登不上|登录不了|进不去|重置"),
        ("no", r"^(没|无|还没|不)|没有账号|没注册|未注册"),
        ("yes", r"^(有|是|能|可以|对|嗯|已)|能登|注册过|申工通"),
    ]
)
_code = _answer(
    [
        ("forgot", r"忘|不记得|查不到|找不到|不知道"),
        ("no", r"^(没|无|还没|不)|新单位|没申请|第一次"),
        ("yes", r"^(有|是|对|嗯|已|记得)|[A-Za-z0-9]{6,}"),
    ]
)
_operator = _answer(
    [
        ("no", r"^(没|无|还没|不|未)|没填|没有填"),
        ("yes", r"^(填过|填了|已|是|有|对|嗯|好)|填好|完善"),
    ]
)
_wait = _answer(
    [
        ("later", r"等|稍后|以后|回头|办好再|下次|晚点"),
        ("continue", r"继续|先|名单|下一步|好"),
    ]
)


def _code_answer(text: str, ctx: FlowContext) -> str | None:
    value = _code(text, ctx)
    if value == "yes" and (m := re.search(r"[A-Za-z0-9]{6,}", normalize_text(text))):
        ctx.slots[CODE_VALUE] = m.group(0)  # the unit's code, not personal data
    return value


def _ask_account(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_account"),
        _buttons(
            ("enroll_account_yes", "yes"),
            ("enroll_account_no", "no"),
            ("enroll_account_forgot", "forgot"),
        ),
    )


async def _account_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[ACCOUNT] == "no":
        return [Reply(say("enroll_account_no_help"))]
    review = _policy(ctx).review_working_days
    return [
        Reply(
            say(
                "enroll_account_forgot_help",
                ready_from=_working_day(ctx.today, review.account_recovery_min),
                ready_to=_working_day(ctx.today, review.account_recovery_max),
            )
        )
    ]


def _ask_code(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_code"),
        _buttons(
            ("enroll_code_yes", "yes"), ("enroll_code_no", "no"), ("enroll_code_forgot", "forgot")
        ),
    )


async def _code_help(ctx: FlowContext) -> list[Reply]:
    if ctx.slots[CODE] == "forgot":
        return [Reply(say("enroll_code_forgot_help"))]
    days = _policy(ctx).review_working_days.enrollment_code
    return [Reply(say("enroll_code_no_help", ready=_working_day(ctx.today, days)))]


def _ask_operator(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_operator"),
        _buttons(("enroll_operator_yes", "yes"), ("enroll_operator_no", "no")),
    )


async def _operator_help(ctx: FlowContext) -> list[Reply]:
    return [Reply(say("enroll_operator_no_help"))]


def _unit(text: str, ctx: FlowContext) -> str | None:
    name = " ".join(normalize_text(text).split())
    if not name or _QUESTION.search(name):
        return None
    low, high = UNIT_NAME_CHARS
    if not low <= len(name) <= high or not re.search(r"[\u4e00-\u9fffA-Za-z]", name):
        raise Invalid(say("enroll_unit_bad"))
    return name


def _prerequisites_missing(ctx: FlowContext) -> bool:
    return (
        ctx.slots.get(ACCOUNT) != "yes"
        or ctx.slots.get(CODE) == "no"
        or ctx.slots.get(OPERATOR) != "yes"
    )


def _ask_wait(ctx: FlowContext) -> Reply:
    return Reply(
        say("enroll_ask_wait"),
        _buttons(("enroll_wait_continue", "continue"), ("enroll_wait_later", "later")),
    )


async def _paused(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(WAIT, None)  # asked again on resuming? no: resume goes to the roster
    return [Reply(say("enroll_paused"))]


# --- step 3: the roster ---------------------------------------------------------------


def _roster(text: str, ctx: FlowContext) -> str | None:
    if ctx.files:
        ctx.scratch["upload"] = next(iter(ctx.files.items()))
        return "uploaded"
    text = normalize_text(text)
    if text == "模板" or (re.search(r"模板", text) and not _QUESTION.search(text)):
        return "template"
    return None


def _ask_roster(ctx: FlowContext) -> Reply:
    text = say(
        "enroll_ask_roster",
        start=cn_date(_coverage_start(ctx)),
        max_rows=_policy(ctx).roster.max_rows_per_file,
    )
    return Reply(text, (Choice(say("enroll_template_button"), "v:模板"),))


async def _send_template(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(ROSTER, None)
    data = template_bytes(_policy(ctx))
    return [
        Reply(say("enroll_template_sent"), files=(OutgoingFile("参保名单导入模板.xlsx", data),))
    ]


async def _read_upload(ctx: FlowContext, name: str, data: bytes) -> RosterFile | FileFinding:
    """Read the workbook off the event loop; a big one reports its progress meanwhile."""
    policy = _policy(ctx)
    progress = ctx.progress
    if progress is None:
        return await asyncio.to_thread(read_roster_bytes, data, name, policy=policy)
    loop = asyncio.get_running_loop()
    shown: list[concurrent.futures.Future[None]] = []

    def report(done: int, total: int | None) -> None:
        # One update at a time, in order: while one is on its way, later counts are skipped.
        if shown and not shown[-1].done():
            return

        async def show() -> None:
            await progress(say("enroll_reading", done=done, total=total))

        shown.append(asyncio.run_coroutine_threadsafe(show(), loop))

    roster = await asyncio.to_thread(read_roster_bytes, data, name, policy=policy, progress=report)
    if shown:  # the last update lands before the result does
        await asyncio.wrap_future(shown[-1])
    return roster


async def _check_roster(ctx: FlowContext) -> list[Reply]:
    name, data = ctx.scratch.pop("upload")
    for slot in (ROSTER, FIX, LAST_YEAR, SI_PAYERS, ATTACHMENTS):
        ctx.slots.pop(slot, None)
    roster = await _read_upload(ctx, name, data)
    if isinstance(roster, FileFinding):
        ctx.scratch["retry"] = True
        return [Reply(roster.message)]
    policy, start = _policy(ctx), _coverage_start(ctx)
    check = await asyncio.to_thread(
        check_rows, roster.rows, policy=policy, start=start, headers=roster.headers
    )
    vault = _vault(ctx)
    hashes = {p.row: vault.id_hash(p.number) for p in check.people}
    found = await ctx.turn.find_conflicts(ctx.slots[YEAR], list(hashes.values()))
    # Two handlers of one unit share its claims; another unit's draft is a conflict.
    taken = {h: unit for h, unit in found if unit != ctx.slots[UNIT]}
    ctx.slots[PEOPLE] = [
        {
            "row": p.row,
            "masked": mask_id(p.number),
            "hash": hashes[p.row],
            "si": p.has_social_insurance,
            "over": p.category is Category.OVER_AGE,
            "keep": False,
            "conflict": taken.get(hashes[p.row]),
        }
        for p in check.people
    ]
    errors: dict[str, list[str]] = {}
    for finding in check.errors:
        errors.setdefault(str(finding.row), []).append(f"【{finding.column}】{finding.message}")
    ctx.slots[ERRORS] = errors
    ctx.slots[SEALED] = vault.seal(_seal(check.people))
    ctx.slots[FILE], ctx.slots[ROWS] = name, check.rows
    _claim(ctx)
    replies = [Reply(_roster_read_text(ctx, check))]
    if check.findings or taken:
        report = report_bytes(roster, check, as_of=start)
        caption = say("enroll_report_caption")
        stem = name.rsplit(".", 1)[0]
        replies[0] = Reply(
            replies[0].text, files=(OutgoingFile(f"{stem}_检查结果.xlsx", report, caption),)
        )
    return replies


def _roster_read_text(ctx: FlowContext, check: RosterCheck) -> str:
    people = _people(ctx)
    return say(
        "enroll_roster_read",
        file=ctx.slots[FILE],
        rows=check.rows,
        ok=sum(1 for p in people if not p["conflict"]),
        error_rows=check.rows_with_errors,
        decide=sum(1 for p in people if p["over"] or p["conflict"]),
        zhibao=check.categories.get(Category.ZHIBAO, 0),
        non_zhibao=check.categories.get(Category.NON_ZHIBAO, 0),
        over_age=check.categories.get(Category.OVER_AGE, 0),
    )


def _after_check(ctx: FlowContext) -> str:
    return ROSTER if ctx.scratch.pop("retry", False) else FIX


def _problems(ctx: FlowContext) -> list[tuple[int, str]]:
    """(row, line) for everything that keeps the roster from passing, in row order."""
    policy = _policy(ctx)
    sealed = _sealed_people(ctx) or {}
    names = {row: p.name for row, p in sealed.items()}
    lines = [
        (int(row), say("enroll_line_error", row=row, text="；".join(texts)))
        for row, texts in ctx.slots.get(ERRORS, {}).items()
    ]
    for p in _people(ctx):
        name = names.get(p["row"], "")
        if p["conflict"]:
            line = say(
                "enroll_line_conflict",
                row=p["row"], name=name, masked=p["masked"], unit=p["conflict"],
            )  # fmt: skip
            lines.append((p["row"], line))
        elif _category(p) is Category.OVER_AGE:
            person = sealed.get(p["row"])
            limit = age_limit(person.sex, policy) if person else policy.age_limits.female
            line = say(
                "enroll_line_over", row=p["row"], name=name, masked=p["masked"], limit=limit
            )
            lines.append((p["row"], line))
    return sorted(lines)


def _ask_fix(ctx: FlowContext) -> Reply:
    problems = _problems(ctx)
    counts = _counts(ctx)
    if not problems:
        text = say(
            "enroll_fix_clean",
            ok=sum(counts.values()),
            zhibao=counts[Category.ZHIBAO],
            non_zhibao=counts[Category.NON_ZHIBAO],
        )
        return Reply(text, _buttons(("enroll_fix_next", "done")))
    over = [p for p in _people(ctx) if _category(p) is Category.OVER_AGE and not p["conflict"]]
    text = say(
        "enroll_fix_list",
        count=len(problems),
        lines=[line for _, line in problems[:SHOWN_LINES]],
        more=max(0, len(problems) - SHOWN_LINES),
        example=problems[0][0],
        has_over=bool(over),
        over_example=over[0]["row"] if over else 0,
    )
    choices = [Choice(say("enroll_fix_drop_errors"), "v:drop-problems")]
    if over:
        choices.append(Choice(say("enroll_fix_keep_over"), "v:keep-over-age"))
    return Reply(text, tuple(choices))


_ROW_RANGE = re.compile(r"(\d{1,5})\s*(?:-|~|－|到|至)\s*(\d{1,5})")
_ROW_NUMBER = re.compile(r"(?<!\d)\d{1,5}(?!\d)")
_ACTION = re.compile(r"删|移除|去掉|不要|剔除|去除|保留|缴金|在缴|确认|留下|在职|有社保")


def _row_numbers(text: str) -> list[int]:
    """ "删除第3、5行", "删除3到5行" -> [3, 5] and [3, 4, 5]."""
    rows: list[int] = []
    for first, last in _ROW_RANGE.findall(text):
        rows += range(int(first), int(last) + 1) if int(last) - int(first) < 5000 else []
    text = _ROW_RANGE.sub(" ", text)
    rows += [int(n) for n in _ROW_NUMBER.findall(text)]
    return list(dict.fromkeys(rows))


def _rows_named(text: str, ctx: FlowContext) -> list[int] | None:
    """ "删除张三": the rows of the people named, when the message says what to do."""
    if not _ACTION.search(text):
        return None
    rows = [row for row, name in _names(ctx).items() if name and name in text]
    return rows or None


def _fix(text: str, ctx: FlowContext) -> str | None:
    if ctx.files:
        ctx.scratch["upload"] = next(iter(ctx.files.items()))
        return "uploaded"
    text = normalize_text(text)
    if wants_enrollment(text):
        return None  # "继续参保": the engine says where we are
    done: list[str] = []
    ctx.scratch["fixed"] = done
    if text == "done" or re.fullmatch(
        r".{0,4}(下一步|继续|没问题|好了|可以了|完成|都改好了).{0,4}", text
    ):
        if _problems(ctx):
            raise Invalid(say("enroll_fix_blocked"))
        if not _counts(ctx)[Category.ZHIBAO] + _counts(ctx)[Category.NON_ZHIBAO]:
            raise Invalid(say("enroll_fix_none_left"))
        return "done"
    if text == "drop-problems" or re.search(
        r"(所有|全部).{0,6}(问题|错误).{0,4}删|删.{0,4}(所有|全部).{0,6}(问题|错误)", text
    ):
        _remove(ctx, [row for row, _ in _problems(ctx)], done)
        return "changed"
    if text == "keep-over-age" or re.search(r"(超龄).{0,6}(都|全部)保留|(都|全部)保留", text):
        over = [p["row"] for p in _people(ctx) if _category(p) is Category.OVER_AGE]
        _keep(ctx, over, done)
        return "changed"
    if re.search(r"\d{15,}", text):
        # A new ID number typed in chat: it belongs in the file, checked with its row.
        raise Invalid(say("enroll_fix_id_in_chat"))
    rows = _rows_named(text, ctx) if not re.search(r"行", text) else _row_numbers(text)
    if rows is None:
        return None  # not about rows: perhaps a question, answered in place
    if not rows:
        raise Invalid(say("enroll_fix_no_rows"))
    known = {p["row"] for p in _people(ctx)} | {int(r) for r in ctx.slots.get(ERRORS, {})}
    unknown = [r for r in rows if r not in known]
    if unknown:
        raise Invalid(say("enroll_fix_unknown_row", rows="、".join(map(str, unknown))))
    if re.search(r"删|移除|去掉|不要|剔除|去除", text):
        _remove(ctx, rows, done)
    elif re.search(r"设为在职|设置在职|设成在职|改为在职|有社保|改成是|改为是", text):
        _set_in_service(ctx, rows, done)
    elif re.search(r"保留|缴金|在缴|确认|留下", text):
        _keep(ctx, rows, done)
    else:
        raise Invalid(say("enroll_fix_what", rows="、".join(map(str, rows))))
    return "changed"


def _chosen_people(ctx: FlowContext, rows: Sequence[int]) -> list[dict[str, Any]]:
    """The people of ``rows``; a row with errors has none to decide for: say so."""
    by_row = {p["row"]: p for p in _people(ctx)}
    for row in rows:
        if row not in by_row:
            raise Invalid(say("enroll_fix_error_row", row=row))
    return [by_row[row] for row in rows]


def _remove(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    names, gone = _names(ctx), set(rows)
    errors = ctx.slots.get(ERRORS, {})
    for row in gone:
        errors.pop(str(row), None)
    ctx.slots[PEOPLE] = [p for p in _people(ctx) if p["row"] not in gone]
    if len(rows) > SHOWN_REMOVALS:
        done.append(say("enroll_fix_removed_many", rows=len(rows)))
        return
    done += [say("enroll_fix_removed", row=row, name=names.get(row, "")) for row in rows]


def _keep(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    people, names = _chosen_people(ctx, rows), _names(ctx)
    for person in people:  # all checked before any is changed
        if not (person["over"] and person["si"]):
            raise Invalid(say("enroll_fix_not_over", row=person["row"]))
    for person in people:
        person["keep"] = True
        done.append(say("enroll_fix_kept", row=person["row"], name=names.get(person["row"], "")))


def _set_in_service(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    people, names = _chosen_people(ctx, rows), _names(ctx)
    for person in people:
        if person["si"]:
            raise Invalid(say("enroll_fix_already_si", row=person["row"]))
    for person in people:
        person["si"] = True
        done.append(
            say("enroll_fix_in_service", row=person["row"], name=names.get(person["row"], ""))
        )


async def _fixed_in_chat(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(FIX, None)
    _claim(ctx)
    done = ctx.scratch.pop("fixed", [])
    return [Reply("\n".join(done))] if done else []


def _after_fix(ctx: FlowContext) -> str:
    value = ctx.slots.get(FIX)
    if value == "uploaded":
        return "check_roster"
    if value == "changed":
        return "fixed_in_chat"
    return SI_PAYERS if ctx.slots.get(CODE) == "no" else LAST_YEAR


def _count(text: str, ctx: FlowContext) -> int | None:
    text = normalize_text(text)
    if text == "unknown" or re.search(r"不清楚|不知道|不记得|忘了", text):
        return -1
    if _QUESTION.search(text):
        return None
    m = re.search(r"(\d+|[零〇一二两三四五六七八九十百千]+)\s*(个|名|位)?\s*人?", text)
    if m is None:
        return None
    value = cn_int(m.group(1))
    if value is None or value > MAX_COUNT or "-" in text:
        raise Invalid(say("enroll_bad_count"))
    return value


def _enrolling(ctx: FlowContext) -> int:
    return sum(_counts(ctx).values())


def _unit_check_args(ctx: FlowContext) -> dict[str, Any]:
    last_year = ctx.slots.get(LAST_YEAR)
    si_payers = ctx.slots.get(SI_PAYERS)
    return {
        "policy": _policy(ctx),
        "last_year": None if last_year is None or last_year < 0 else last_year,
        "si_payers": None if si_payers is None or si_payers < 0 else si_payers,
        "new_unit": ctx.slots.get(CODE) == "no",
    }


def _after_last_year(ctx: FlowContext) -> str:
    unit = check_unit(_enrolling(ctx), **_unit_check_args(ctx))
    return "unit_check" if unit.ratio_required is False else SI_PAYERS


def _ask_count(key: str) -> Callable[[FlowContext], Reply]:
    def prompt(ctx: FlowContext) -> Reply:
        return Reply(say(key), (Choice(say("enroll_unknown"), "v:unknown"),))

    return prompt


async def _unit_check(ctx: FlowContext) -> list[Reply]:
    unit = check_unit(_enrolling(ctx), **_unit_check_args(ctx))
    ctx.slots[ATTACHMENTS] = [[a.name, a.reason, a.conditional] for a in unit.attachments]
    text = say("enroll_unit_result", notes=unit.notes, attachments=unit.attachments)
    return [Reply(text)]


def _after_unit_check(ctx: FlowContext) -> str:
    return "plans_review" if _fixed_plans(ctx) else PLAN_SLOTS["A"]


# --- step 4: plans --------------------------------------------------------------------


def _chosen(ctx: FlowContext) -> list[str]:
    fixed = _fixed_plans(ctx)
    if fixed:
        return list(fixed)
    return [code for s in SERIES for code in ctx.slots.get(PLAN_SLOTS[s]) or []]


def _running(ctx: FlowContext, plans: Sequence[str]) -> str:
    """The premium of the plans chosen so far, per category present and in total."""
    if not plans:
        return ""
    policy, start = _policy(ctx), _coverage_start(ctx)
    cats, total = [], Decimal(0)
    for category, people in _counts(ctx).items():
        if not people:
            continue
        each = person_premium(plans, category, start, policy).total
        total += each * people
        label = "职保在职" if category is Category.ZHIBAO else "非职保"
        cats.append({"label": label, "each": yuan(each), "people": people})
    return say("enroll_running", plans="+".join(plans), cats=cats, total=yuan(total))


def _series_plan(series: Series) -> Callable[[str, FlowContext], list[str] | None]:
    def extract(text: str, ctx: FlowContext) -> list[str] | None:
        text = normalize_text(text)
        codes = _plans_in(text)
        mine = [c for c in codes or () if c.startswith(series)]
        if not mine:
            if codes is None and re.search(r"^(不选|不要|不参加|跳过|都不|无|没有|none)", text):
                return []
            if codes:
                return None  # other series' codes: the prefill takes them
            return None
        policy = _policy(ctx)
        enhanced = [c for c in mine if not policy.plan(c).is_basic]
        if len(enhanced) > 1:
            raise Invalid(say("enroll_plan_two_enhanced", codes="、".join(enhanced)))
        return mine

    return extract


def _ask_plan(series: Series) -> Callable[[FlowContext], Reply]:
    def prompt(ctx: FlowContext) -> Reply:
        policy, start = _policy(ctx), _coverage_start(ctx)
        tier = policy.price_tier(start)
        codes = [p.code for p in policy.plans if p.series == series]
        prices = " ".join(f"{c} {yuan(tier.prices[c])}" for c in codes)
        basic = next(c for c in codes if policy.plan(c).is_basic)
        enhanced = [c for c in codes if c != basic]
        rule = (
            say("enroll_plan_rule_A")
            if policy.plan(basic).zhibao_only
            else say("enroll_plan_rule_other", series=series)
        )
        earlier = [
            c for s in SERIES[: SERIES.index(series)] for c in ctx.slots.get(PLAN_SLOTS[s]) or []
        ]
        text = say(
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
        return Reply(text, (*choices, Choice(say("enroll_plan_none", series=series), "v:不选")))

    return prompt


def _prefill(text: str, ctx: FlowContext) -> None:
    """Plan codes for several series in one message ("A0 B0 C0 A1") fill each series."""
    if ctx.turn.state.step not in PLAN_SLOTS.values():
        return
    for series in SERIES:
        try:
            value = _series_plan(series)(text, ctx)
        except Invalid as exc:
            ctx.slots[f"_{PLAN_SLOTS[series]}_error"] = exc.reason
            continue
        if value:
            ctx.slots[PLAN_SLOTS[series]] = value


def _quote(ctx: FlowContext) -> UnitQuote:
    return quote_unit(
        ctx.slots[PLANS], _coverage_start(ctx), _counts(ctx), centralized_plans=_fixed_plans(ctx)
    )


async def _plans_review(ctx: FlowContext) -> list[Reply]:
    plans, fixed = _chosen(ctx), _fixed_plans(ctx)
    check = check_selection(plans, _policy(ctx), fixed)
    if not check.accepted:
        reasons = "\n".join(f"· {r.message}" for r in check.refusals)
        _replan(ctx)
        return [Reply(f"{say('enroll_plans_refused')}\n{reasons}\n{say('enroll_plans_again')}")]
    ctx.slots[PLANS] = list(check.plans)
    quote = _quote(ctx)
    replies = []
    if fixed:
        replies.append(Reply(say("enroll_fixed_plans_used", plans="、".join(fixed))))
    names = _names(ctx)
    non_zhibao = [
        f"{names.get(p['row'], '')}（第{p['row']}行）"
        for p in _people(ctx)
        if _category(p) is Category.NON_ZHIBAO and not p["conflict"]
    ]
    if quote.not_enrollable:
        key = "enroll_nothing_for_fixed" if fixed else "enroll_nothing_for"
        replies.append(Reply(say(key, people=len(non_zhibao), names="、".join(non_zhibao))))
        if fixed:
            ctx.scratch["refix"] = True
        else:
            _replan(ctx)
        return replies
    dropped = {c for cat in quote.categories for c in cat.person.dropped}
    if dropped and non_zhibao:
        price = _policy(ctx).price_tier(_coverage_start(ctx)).prices["A0"]
        text = say("enroll_no_a0", people=len(non_zhibao), names="、".join(non_zhibao),
                   a0_price=yuan(price))  # fmt: skip
        replies.append(Reply(text))
    return replies


def _replan(ctx: FlowContext) -> None:
    ctx.scratch["replan"] = True
    for slot in PLAN_SLOTS.values():
        ctx.slots.pop(slot, None)
    ctx.slots.pop(PLANS, None)


def _after_plans(ctx: FlowContext) -> str:
    if ctx.scratch.pop("refix", False):
        ctx.slots.pop(FIX, None)
        return FIX
    return PLAN_SLOTS["A"] if ctx.scratch.pop("replan", False) else "summary"


# --- step 5: the summary --------------------------------------------------------------


async def _summary(ctx: FlowContext) -> list[Reply]:
    policy = _policy(ctx)
    submitted = _submitted(ctx)
    period = coverage_period(submitted)
    quote = _quote(ctx)
    series_chosen = {policy.plan(c).series for c in quote.plans}
    waits = [
        {"name": w.series_name, "days": w.days, "first": cn_date(w.covered_from), "note": w.note}
        for w in waiting_periods(period, policy)
        if w.series in series_chosen and period.mode is Mode.INSTANT
    ]
    deadline = cn_date(payment_deadline(submitted, policy))
    head = say(
        "enroll_summary_head",
        unit=ctx.slots[UNIT],
        mode=MODE_LABELS[period.mode],
        submit=cn_date(submitted),
    )
    dates = say(
        "enroll_summary_dates", start=cn_date(period.start), end=cn_date(period.end), waits=waits
    )
    money = say(
        "enroll_summary_money",
        deadline=deadline,
        submit=cn_date(submitted),
        total=yuan(quote.total),
    )
    text = "\n\n".join([head, render_quote(quote), dates, money])
    checklist = say("enroll_checklist", steps=_checklist(ctx, quote, deadline))
    files = _files(ctx, quote, deadline)
    ctx.slots.pop(SEALED, None)  # the full rows are no longer needed: drop them
    choices = (
        Choice(say("status_menu"), "flow:status"),
        Choice(say("menu_label"), "cmd:start"),
    )
    if files is None:
        return [Reply(text), Reply(checklist + "\n" + say("enroll_sealed_lost"), choices)]
    caption = say("enroll_files", people=sum(_counts(ctx).values()))
    return [Reply(text), Reply(f"{checklist}\n{caption}", choices, files)]


def _files(ctx: FlowContext, quote: UnitQuote, deadline: str) -> tuple[OutgoingFile, ...] | None:
    sealed = _sealed_people(ctx)
    if sealed is None:
        return None
    policy = _policy(ctx)
    people = []
    for p in _people(ctx):
        person = sealed.get(p["row"])
        if person is None or p["conflict"] or _category(p) is Category.OVER_AGE:
            continue
        # "设为在职" in chat: the clean file says 是 in 是否有社保, as the platform needs.
        person = replace(person, has_social_insurance=p["si"])
        people.append((person, _category(p), p["masked"]))
    clean = clean_roster_bytes([person for person, _, _ in people], policy)
    summary = summary_workbook_bytes(
        unit=ctx.slots[UNIT],
        mode=MODE_LABELS[_mode(ctx)],
        submitted=_submitted(ctx),
        quote=quote,
        people=[(person.row, person.name, masked, cat) for person, cat, masked in people],
        deadline=deadline,
        policy=policy,
        attachments=[(a[0], a[1]) for a in ctx.slots.get(ATTACHMENTS) or []],
    )
    count = len(people)
    return (
        OutgoingFile(CLEAN_FILE, clean, say("enroll_clean_caption", people=count)),
        OutgoingFile(SUMMARY_FILE, summary, say("enroll_summary_caption")),
    )


def _checklist(ctx: FlowContext, quote: UnitQuote, deadline: str) -> list[str]:
    policy = _policy(ctx)
    statuses = lifecycle().statuses
    review = policy.review_working_days
    submitted = _submitted(ctx)
    label = {name: s.label for name, s in statuses.items()}
    steps_: list[str] = []
    if ctx.slots.get(ACCOUNT) == "no":
        steps_.append(say("enroll_step_register"))
    steps_.append(say("enroll_step_login"))
    if ctx.slots.get(CODE) == "no":
        ready = _working_day(ctx.today, review.enrollment_code)
        steps_.append(say("enroll_step_code", ready=ready))
    if ctx.slots.get(OPERATOR) != "yes":
        steps_.append(say("enroll_step_operator"))
    entry = "集中参保办理" if _mode(ctx) is Mode.CENTRALIZED else "即时参保办理"
    steps_.append(
        say("enroll_step_batch", entry=entry, unit=ctx.slots[UNIT],
            pending=label["roster_pending_validation"])
    )  # fmt: skip
    steps_.append(say("enroll_step_upload", clean_file=CLEAN_FILE))
    kept = sum(1 for p in _people(ctx) if p["over"] and p["keep"] and not p["conflict"])
    steps_.append(say("enroll_step_validate", kept=kept, passed=label["validation_passed"]))
    attachments = ctx.slots.get(ATTACHMENTS) or []
    if attachments:
        names = "、".join(a[0] for a in attachments if not a[2])
        if any(a[2] for a in attachments):
            names += say("enroll_supporting_documents") if names else say("enroll_supporting_only")
        ready = _working_day(submitted, review.attachments)
        steps_.append(
            say("enroll_step_attachments", names=names, review=label["attachment_review"],
                ready=ready, submit=cn_date(submitted), plan_selection=label["plan_selection"])
        )  # fmt: skip
    fixed = _fixed_plans(ctx)
    if not fixed:
        if not attachments:
            steps_.append(say("enroll_step_submit", plan_selection=label["plan_selection"]))
        steps_.append(
            say("enroll_step_plans", plans="、".join(quote.plans), total=yuan(quote.total),
                voucher_pending=label["voucher_pending"])
        )  # fmt: skip
    else:
        steps_.append(
            say("enroll_step_fixed_plans", plans="、".join(fixed), total=yuan(quote.total),
                voucher_pending=label["voucher_pending"])
        )  # fmt: skip
    steps_.append(
        say("enroll_step_pay", total=yuan(quote.total), deadline=deadline,
            voucher_review=label["voucher_review"], submit=cn_date(submitted),
            ready=_working_day(submitted, review.voucher))
    )  # fmt: skip
    steps_.append(say("enroll_step_done", enrolled=label["enrolled"]))
    return steps_


async def _nothing(ctx: FlowContext) -> list[Reply]:
    return []


def _yes_route(slot: str, yes: str, otherwise: str) -> Callable[[FlowContext], str]:
    return lambda ctx: yes if ctx.slots.get(slot) else otherwise


ENROLL = Flow(
    name="enroll",
    title="参保办理",
    start="intro",
    prefill=_prefill,
    resumable=True,
    steps=steps(
        Step("intro", act=_intro, route=_after_intro, transitions=("closed", JOINED, SUBMIT)),
        Step("closed", act=_nothing, end=True),
        Step(JOINED, prompt=_ask_joined, extract=_joined, transitions=(FIXED, SUBMIT),
             route=_yes_route(JOINED, FIXED, SUBMIT)),
        Step(FIXED, prompt=lambda ctx: Reply(say("enroll_ask_fixed_plans")), extract=_fixed,
             transitions=(SUBMIT,)),
        Step(SUBMIT, prompt=_ask_submit, extract=_submit, transitions=("submit_set",)),
        Step("submit_set", act=_submit_set, transitions=(ACCOUNT,)),
        Step(ACCOUNT, prompt=_ask_account, extract=_account, transitions=("account_help", CODE),
             route=lambda ctx: CODE if ctx.slots[ACCOUNT] == "yes" else "account_help"),
        Step("account_help", act=_account_help, transitions=(CODE,)),
        Step(CODE, prompt=_ask_code, extract=_code_answer, transitions=("code_help", OPERATOR),
             route=lambda ctx: OPERATOR if ctx.slots[CODE] == "yes" else "code_help"),
        Step("code_help", act=_code_help, transitions=(OPERATOR,)),
        Step(OPERATOR, prompt=_ask_operator, extract=_operator,
             transitions=("operator_help", UNIT),
             route=lambda ctx: UNIT if ctx.slots[OPERATOR] == "yes" else "operator_help"),
        Step("operator_help", act=_operator_help, transitions=(UNIT,)),
        Step(UNIT, prompt=lambda ctx: Reply(say("enroll_ask_unit")), extract=_unit,
             transitions=(WAIT, ROSTER),
             route=lambda ctx: WAIT if _prerequisites_missing(ctx) else ROSTER),
        Step(WAIT, prompt=_ask_wait, extract=_wait, transitions=("paused", ROSTER),
             route=lambda ctx: "paused" if ctx.slots[WAIT] == "later" else ROSTER),
        Step("paused", act=_paused, pause=True, transitions=(ROSTER,)),
        Step(ROSTER, prompt=_ask_roster, extract=_roster, accepts_files=True,
             transitions=("send_template", "check_roster"),
             route=lambda ctx: "send_template" if ctx.slots[ROSTER] == "template"
             else "check_roster"),
        Step("send_template", act=_send_template, transitions=(ROSTER,)),
        Step("check_roster", act=_check_roster, route=_after_check, transitions=(ROSTER, FIX)),
        Step(FIX, prompt=_ask_fix, extract=_fix, accepts_files=True, route=_after_fix,
             transitions=("check_roster", "fixed_in_chat", LAST_YEAR, SI_PAYERS)),
        Step("fixed_in_chat", act=_fixed_in_chat, transitions=(FIX,)),
        Step(LAST_YEAR, prompt=_ask_count("enroll_ask_last_year"), extract=_count,
             route=_after_last_year, transitions=("unit_check", SI_PAYERS)),
        Step(SI_PAYERS, prompt=_ask_count("enroll_ask_si_payers"), extract=_count,
             transitions=("unit_check",)),
        Step("unit_check", act=_unit_check, route=_after_unit_check,
             transitions=(PLAN_SLOTS["A"], "plans_review")),
        Step(PLAN_SLOTS["A"], prompt=_ask_plan("A"), extract=_series_plan("A"),
             transitions=(PLAN_SLOTS["B"],)),
        Step(PLAN_SLOTS["B"], prompt=_ask_plan("B"), extract=_series_plan("B"),
             transitions=(PLAN_SLOTS["C"],)),
        Step(PLAN_SLOTS["C"], prompt=_ask_plan("C"), extract=_series_plan("C"),
             transitions=("plans_review",)),
        Step("plans_review", act=_plans_review, route=_after_plans,
             transitions=(PLAN_SLOTS["A"], FIX, "summary")),
        Step("summary", act=_summary, end=True),
    ),
)  # fmt: skip
