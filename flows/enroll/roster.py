"""Step 3: the roster. The template on request, the upload read off the event loop and
checked row by row, fixes by re-upload or in chat, and the unit checks with their
attachments."""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import copy
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flows.enroll.draft import (
    ATTACHMENTS,
    CODE,
    EARLY,
    EARLY_MAX_BYTES,
    EARLY_STEP,
    ERROR_NAMES,
    ERRORS,
    FILE,
    FIX,
    LAST_YEAR,
    MAX_COUNT,
    PEOPLE,
    PLAN_SLOTS,
    ROSTER,
    ROWS,
    SEALED,
    SHOWN_LINES,
    SHOWN_REMOVALS,
    SI_PAYERS,
    SI_ROWS,
    SUBMIT,
    UNIT,
    YEAR,
    buttons,
    category_of,
    claim_ids,
    counts_of,
    fixed_plans_of,
    names_of,
    people_of,
    policy_of,
    seal_rows,
    sealed_people,
    start_of,
    vault_of,
    wants_enrollment,
)
from flows.extract import (
    QUESTION,
    VAGUE_COUNT,
    cn_int,
    extract_count,
    extract_yes_no,
    normalize_text,
)
from flows.flow import FlowContext, Go, Invalid, Step
from flows.messages import Choice, OutgoingFile, Reply
from rules.catalog import say
from rules.fmt import cn_date
from rules.ids import mask_id
from rules.people import Category, age_limit
from rules.privacy import mask_personal_data
from rules.roster import (
    Code,
    Person,
    RosterCheck,
    RosterField,
    check_rows,
    check_unit,
    people_if_insured,
)
from sheets.enroll_files import (
    report_bytes,
    template_bytes,
)
from sheets.roster_file import FileFinding, RosterFile, read_roster_bytes


def _wants_template(text: str) -> bool:
    """ "模板", "发我导入模板" (a question about the template is answered instead)."""
    return text == "模板" or (bool(re.search(r"模板", text)) and not QUESTION.search(text))


def _roster(text: str, ctx: FlowContext) -> str | None:
    if ctx.files:
        return "uploaded"
    return "template" if _wants_template(normalize_text(text)) else None


def _ask_roster(ctx: FlowContext) -> Reply:
    text = say(
        "enroll_ask_roster",
        start=cn_date(start_of(ctx)),
        max_rows=policy_of(ctx).roster.max_rows_per_file,
    )
    return Reply(text, (Choice(say("enroll_template_button"), "v:模板"),))


def _answered(slot: str, value: str) -> Callable[[FlowContext], bool]:
    def holds(ctx: FlowContext) -> bool:
        return bool(ctx.slots.get(slot) == value)

    return holds


def _uploaded(ctx: FlowContext) -> bool:
    """The message brought a file: the roster to check."""
    return bool(ctx.files)


def _roster_checked(ctx: FlowContext) -> bool:
    """A roster was checked (now, or before and kept when the new one could not be read)."""
    return ROSTER in ctx.slots


def _template_sent(ctx: FlowContext) -> list[Reply]:
    data = template_bytes(policy_of(ctx))
    return [
        Reply(
            say("enroll_template_sent"), files=(OutgoingFile(say("enroll.template_file"), data),)
        )
    ]


async def _send_template(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(ROSTER, None)
    return _template_sent(ctx)


async def _send_template_to_fix(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(FIX, None)  # asked for while fixing: the roster checked before stays
    return _template_sent(ctx)


async def _read_upload(ctx: FlowContext, name: str, data: bytes) -> RosterFile | FileFinding:
    """Read the workbook off the event loop; a big one reports its progress meanwhile."""
    policy = policy_of(ctx)
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


@dataclass(frozen=True)
class CheckedUpload:
    """An upload read and checked for one start date, with everything the turn stores
    already computed (hashes, sealed rows, the annotated report)."""

    name: str
    data: bytes
    start: dt.date
    roster: RosterFile | FileFinding
    check: RosterCheck | None = None
    hashes: dict[int, str] = field(default_factory=dict)
    """ID hashes by row, of the people and of the rows in ``insured``."""
    insured: tuple[Person, ...] = ()
    """The rows kept out only by their 是否有社保 answer, as people once it is 是."""
    sealed: str = ""
    error_names: str = ""
    report: bytes | None = None


async def _prepare_upload(ctx: FlowContext) -> CheckedUpload | None:
    """Read and check an upload before the turn (see ``Step.prepare``)."""
    if not ctx.files or SUBMIT not in ctx.slots:
        return None
    name, data = next(iter(ctx.files.items()))
    return await _checked_upload(ctx, name, data)


async def _checked_upload(ctx: FlowContext, name: str, data: bytes) -> CheckedUpload:
    start = start_of(ctx)
    roster = await _read_upload(ctx, name, data)
    if isinstance(roster, FileFinding):
        return CheckedUpload(name, data, start, roster)
    return await asyncio.to_thread(_check_upload, ctx, name, data, start, roster)


def _check_upload(
    ctx: FlowContext, name: str, data: bytes, start: dt.date, roster: RosterFile
) -> CheckedUpload:
    # Run in a worker thread: a 5000-row roster takes a noticeable fraction of a second.
    policy, vault = policy_of(ctx), vault_of(ctx)
    check = check_rows(roster.rows, policy=policy, start=start, headers=roster.headers)
    insured = people_if_insured(
        roster.rows, check, policy=policy, start=start, headers=roster.headers
    )
    errors = {f.row for f in check.errors}
    error_names = [
        [r.row, r.cell(RosterField.NAME)]
        for r in roster.rows
        if r.row in errors and r.cell(RosterField.NAME)
    ]
    return CheckedUpload(
        name,
        data,
        start,
        roster,
        check,
        hashes={p.row: vault.id_hash(p.number) for p in (*check.people, *insured)},
        insured=insured,
        sealed=vault.seal(seal_rows((*check.people, *insured))),
        error_names=vault.seal(error_names),
        report=report_bytes(roster, check, as_of=start) if check.findings else None,
    )


async def _check_roster(ctx: FlowContext) -> list[Reply]:
    name, data = next(iter(ctx.files.items()))
    return await _check(ctx, name, data)


async def _check(ctx: FlowContext, name: str, data: bytes) -> list[Reply]:
    """Check the roster ``name``; the roster question is asked again (``ROSTER`` left
    unanswered) when it cannot be read and no roster checked before is kept."""
    ctx.slots.pop(ROSTER, None)
    ctx.slots.pop(FIX, None)
    ctx.slots.pop(EARLY, None)  # a roster sent now replaces one sent before its step
    upload = ctx.prepared
    if not (
        isinstance(upload, CheckedUpload)
        and (upload.name, upload.data, upload.start) == (name, data, start_of(ctx))
    ):  # not read before the turn, or the draft changed meanwhile
        upload = await _checked_upload(ctx, name, data)
    roster, check = upload.roster, upload.check
    if isinstance(roster, FileFinding) or check is None:
        message = roster.message if isinstance(roster, FileFinding) else ""
        template = isinstance(roster, FileFinding) and roster.code == "bad_template"
        if template:  # in chat the template comes as a file, at the press of a button
            message = f"{message}\n{say('enroll_template_offer')}"
        if SEALED in ctx.slots:  # a roster checked before stays, with its fixes
            ctx.slots[ROSTER] = "checked"
            kept = say("enroll_previous_kept", file=ctx.slots[FILE])
            offer = (Choice(say("enroll_template_button"), "v:模板"),) if template else ()
            return [Reply(f"{message}\n{kept}", offer)]
        return [Reply(message)]  # the roster question comes next, with the button
    for slot in (LAST_YEAR, SI_PAYERS, ATTACHMENTS):
        ctx.slots.pop(slot, None)  # a new roster: its counts and checks are asked again
    hashes = upload.hashes
    found = await ctx.find_conflicts(ctx.slots[YEAR], list(hashes.values()))
    # Another unit's draft holding the same number is worth a warning, never a block: a
    # draft is no enrollment, and the platform's own duplicate check is final. Which unit
    # that is stays with that unit (never shown to or stored for this one); two handlers
    # of one unit share its claims.
    elsewhere = {h for h, unit in found if unit != ctx.slots[UNIT]}
    ctx.slots[PEOPLE] = [
        {
            "row": p.row,
            "masked": mask_id(p.number),
            "hash": hashes[p.row],
            "si": p.has_social_insurance,
            "over": p.category is Category.OVER_AGE,
            "keep": False,
            "conflict": False,
            "elsewhere": hashes[p.row] in elsewhere,
        }
        for p in check.people
    ]
    blank_si = {
        f.row
        for f in check.errors
        if f.field is RosterField.SOCIAL_INSURANCE
        and f.code in (Code.MISSING_REQUIRED, Code.BAD_SI_FLAG)
    }
    ctx.slots[SI_ROWS] = {
        str(p.row): {
            "masked": mask_id(p.number),
            "hash": hashes[p.row],
            "over": p.category is Category.OVER_AGE,
            "elsewhere": hashes[p.row] in elsewhere,
            "blank": p.row in blank_si,
        }
        for p in upload.insured
    }
    report_name = name.rsplit(".", 1)[0] + say("enroll.report_suffix")
    errors: dict[str, list[str]] = {}
    for finding in check.errors:
        message = finding.message
        if finding.code is Code.ID_OLD_15:  # the full number is in the workbook sent now
            message = say("enroll_old_id", file=mask_personal_data(report_name))
        errors.setdefault(str(finding.row), []).append(f"【{finding.column}】{message}")
    ctx.slots[ERRORS] = errors
    ctx.slots[SEALED] = upload.sealed
    ctx.slots[ERROR_NAMES] = upload.error_names
    ctx.slots[FILE], ctx.slots[ROWS] = mask_personal_data(name), check.rows
    ctx.slots[ROSTER] = "checked"  # a correction of an earlier answer keeps this roster
    claim_ids(ctx)
    replies = [Reply("\n".join([*roster.notes, _roster_read_text(ctx, check)]))]
    if check.findings and upload.report is not None:
        caption = say("enroll_report_caption")
        replies[0] = Reply(
            replies[0].text, files=(OutgoingFile(report_name, upload.report, caption),)
        )
    return replies


def keep_early_roster(name: str, data: bytes, ctx: FlowContext) -> list[Reply]:
    """A file sent before the roster step (at "先继续准备名单 / 等办好了再来"): kept in the
    draft, sealed (it holds the people's ID numbers), and checked when the step comes.
    The engine calls this for a file the pending step does not take; [] once the roster
    step has been reached (a file is then not the roster's: the engine says so)."""
    if ROSTER in ctx.slots or SEALED in ctx.slots:
        return []
    shown = mask_personal_data(name)
    if len(data) > EARLY_MAX_BYTES:
        return [Reply(say("enroll_early_too_big", file=shown))]
    replaced = EARLY in ctx.slots
    token = [name, base64.b64encode(data).decode("ascii")]
    ctx.slots[EARLY] = vault_of(ctx).seal(token)
    return [Reply(say("enroll_early_kept", file=shown, replaced=replaced))]


def _early_upload(ctx: FlowContext) -> tuple[str, bytes] | None:
    token = ctx.slots.pop(EARLY, None)
    kept = vault_of(ctx).unseal(token) if isinstance(token, str) else None
    if not isinstance(kept, list) or len(kept) != 2:  # sealed under another secret
        return None
    name, encoded = kept
    try:
        return str(name), base64.b64decode(str(encoded), validate=True)
    except (ValueError, binascii.Error):
        return None


async def _check_early(ctx: FlowContext) -> list[Reply]:
    """The roster step reached with a roster sent before it: that roster is checked now."""
    upload = _early_upload(ctx)
    if upload is None:
        return [Reply(say("enroll_early_lost"))]  # the roster question comes next
    return [Reply(say("enroll_early_checking")), *await _check(ctx, *upload)]


def _roster_read_text(ctx: FlowContext, check: RosterCheck) -> str:
    """Rows = people + rows with errors; people = 职保在职 + 非职保 + 职保超龄 (to decide).
    Rows with errors are in no category: they enroll nobody until fixed or removed."""
    people = people_of(ctx)
    categories = [category_of(p) for p in people]
    names = names_of(ctx)
    pending = [{"row": int(row), **p} for row, p in ctx.slots.get(SI_ROWS, {}).items()]
    elsewhere = [
        say("enroll_line_elsewhere", row=p["row"], name=names.get(p["row"], ""),
            masked=p["masked"])
        for p in sorted([*people, *pending], key=lambda p: int(p["row"]))
        if p.get("elsewhere")
    ]  # fmt: skip
    text = say(
        "enroll_roster_read",
        file=ctx.slots[FILE],
        rows=check.rows,
        ok=len(people),
        error_rows=check.rows_with_errors,
        zhibao=categories.count(Category.ZHIBAO),
        non_zhibao=categories.count(Category.NON_ZHIBAO),
        over_age=categories.count(Category.OVER_AGE),
    )
    if elsewhere:
        text += "\n" + say(
            "enroll_elsewhere",
            count=len(elsewhere),
            lines=elsewhere[:SHOWN_LINES],
            more=max(0, len(elsewhere) - SHOWN_LINES),
        )
    return text


def _problems(ctx: FlowContext) -> list[tuple[int, str]]:
    """(row, line) for everything that keeps the roster from passing, in row order."""
    policy = policy_of(ctx)
    sealed = sealed_people(ctx) or {}
    names = {row: p.name for row, p in sealed.items()}
    lines = [
        (int(row), say("enroll_line_error", row=row, text="；".join(texts)))
        for row, texts in ctx.slots.get(ERRORS, {}).items()
    ]
    for p in people_of(ctx):
        name = names.get(p["row"], "")
        if category_of(p) is Category.OVER_AGE:
            person = sealed.get(p["row"])
            limit = age_limit(person.sex, policy) if person else policy.age_limits.female
            line = say(
                "enroll_line_over", row=p["row"], name=name, masked=p["masked"], limit=limit
            )
            lines.append((p["row"], line))
    return sorted(lines)


def _ask_fix(ctx: FlowContext) -> Reply:
    problems = _problems(ctx)
    counts = counts_of(ctx)
    if not problems:
        text = say(
            "enroll_fix_clean",
            ok=sum(counts.values()),
            zhibao=counts[Category.ZHIBAO],
            non_zhibao=counts[Category.NON_ZHIBAO],
        )
        return Reply(text, buttons(("enroll_fix_next", "done")))
    over = [p for p in people_of(ctx) if category_of(p) is Category.OVER_AGE]
    blank = [int(row) for row, r in ctx.slots.get(SI_ROWS, {}).items() if r["blank"]]
    text = say(
        "enroll_fix_list",
        count=len(problems),
        lines=[line for _, line in problems[:SHOWN_LINES]],
        more=max(0, len(problems) - SHOWN_LINES),
        example=problems[0][0],
        has_over=bool(over),
        over_example=over[0]["row"] if over else 0,
        si_example=min(blank, default=0),
    )
    choices = [Choice(say("enroll_fix_drop_errors"), "v:drop-problems")]
    if over:
        choices.append(Choice(say("enroll_fix_keep_over"), "v:keep-over-age"))
    return Reply(text, tuple(choices))


_CN_ROW = re.compile(r"(?<=第)([一二两三四五六七八九十百]+)(?=\s*[行\u3001,\uff0c和到至-])")
_ROW_RANGE = re.compile(r"(\d{1,5})\s*(?:-|~|－|到|至)\s*(\d{1,5})")
_ROW_NUMBER = re.compile(r"(?<!\d)\d{1,5}(?!\d)")
# What a message asks for the rows it names; the order of the checks is the priority.
_REMOVE = r"删|移除|去掉|不要|剔除|去除"
# No capturing groups in these: the clause splitting below uses them with findall/split.
_NO_SI = (
    r"(?:没有?|无|不交|没交|没缴|不缴|未交|未缴)社保|不是在职|非职保"
    r"|(?:改|设|填|写)(?:成|为)?[\"\u201c\u201d']?否|是否有社保.{0,2}否"
)
_IN_SERVICE = (
    r"设为在职|设置在职|设成在职|改为在职|改成在职|算在职|(?<!不)是在职|(?<![没无否])有社保"
    r"|(?:改|设|填|写)(?:成|为)?[\"\u201c\u201d']?是(?![否在])|是否有社保.{0,2}是(?![否在])"
)
_KEEP = r"保留|缴金|在缴|确认|留下|留着|不删|别删|不要删"
_NOT_REMOVE = r"不要删|别删|不删|不用删|留着|留下"
_ACTION = re.compile(f"{_NOT_REMOVE}|{_REMOVE}|{_NO_SI}|{_IN_SERVICE}|{_KEEP}")
_ACTION_KINDS = (_REMOVE, _NO_SI, _IN_SERVICE, _KEEP)


_TEMPLATE_ASKED = r"(发|给|要|来|下载)(我|一)?(个|份|下)?(导入)?模板|模板.{0,3}(发|给)我"

_DROP_PROBLEMS = (
    r"(所有|全部)?.{0,4}(有问题|问题|错误|出错|错的)的?.{0,4}(都|全部|全)?.{0,2}(删|去掉|不要)"
    r"|(删|去掉).{0,4}(所有|全部).{0,6}(问题|错误)"
    r"|(删|去掉|拿掉).{0,3}(有问题|有错|错误|出错|错)的"  # 删除有错误的行, 把错的删掉
)


def _row_numbers(text: str) -> list[int]:
    """ "删除第3、5行", "删除3到5行", "第五行" -> [3, 5], [3, 4, 5] and [5]."""
    text = _CN_ROW.sub(lambda m: str(cn_int(m.group(1))), text)
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
    rows = [row for row, name in names_of(ctx).items() if name and name in text]
    return rows or None


class _Trial:
    """Changes asked for in chat, tried in turn on a copy of the draft (each is checked
    against the draft as the ones before it leave it); the act applies them for real."""

    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = replace(ctx, slots=copy.deepcopy(ctx.slots))
        self.changes: list[list[Any]] = []

    def __call__(self, change: str, rows: Sequence[int]) -> None:
        _CHANGES[change](self.ctx, rows, [])
        self.changes.append([change, list(rows)])


def _fix(text: str, ctx: FlowContext) -> str | list[list[Any]] | None:
    """What the unit says of the roster checked: a new file, the template, "done", or
    changes to rows (``[[change, rows], ...]``, applied by ``_fixed_in_chat``)."""
    if ctx.files:
        return "uploaded"
    text = normalize_text(text)
    if wants_enrollment(text):
        return None  # "继续参保": the engine says where we are
    if text == "模板" or re.search(_TEMPLATE_ASKED, text):
        return "template"  # the button the file error offers, or the same in words
    trial = _Trial(ctx)
    ctx = trial.ctx  # nothing below changes the draft itself
    if (
        text == "drop-problems"
        or (
            re.search(_DROP_PROBLEMS, text)
            and not re.search(r"\d|第\s*[一二三四五六七八九十]", text)
        )
        or re.fullmatch(r"(那就)?(都|全部|全)(删|删掉|删了|删除|去掉|不要)(了|吧|掉)*", text)
    ):
        trial("remove", [row for row, _ in _problems(ctx)])
        return trial.changes
    if (
        text == "done"
        or extract_yes_no(text) is True
        or re.fullmatch(
            r".{0,8}(下一步|下一部|下一布|继续|没问题|好了|可以了|完成|都改好了|往下走).{0,4}",
            text,
        )
    ):
        if _problems(ctx):
            raise Invalid(say("enroll_fix_blocked"))
        if not counts_of(ctx)[Category.ZHIBAO] + counts_of(ctx)[Category.NON_ZHIBAO]:
            raise Invalid(say("enroll_fix_none_left"))
        return "done"
    if text == "keep-over-age" or re.search(r"(超龄).{0,6}(都|全部)保留|(都|全部)保留", text):
        over = [p["row"] for p in people_of(ctx) if category_of(p) is Category.OVER_AGE]
        trial("keep", over)
        return trial.changes
    if re.search(r"\d{15,}", text):
        # A new ID number typed in chat: it belongs in the file, checked with its row.
        raise Invalid(say("enroll_fix_id_in_chat"))
    clauses = _action_clauses(text)
    if len(clauses) > 1:  # "老孙保留小吴删掉": each instruction for its own rows
        for clause in clauses:
            if not _apply_to_rows(clause, trial):
                raise Invalid(say("enroll_fix_what_of", clause=clause))
        return trial.changes
    return trial.changes if _apply_to_rows(text, trial) else None


def _action_clauses(text: str) -> list[str]:
    """A message cut into one instruction each: at punctuation, and where two kinds of
    instruction meet ("老孙保留小吴删掉", "保留第3行删除第5行")."""
    clauses = []
    for part in filter(None, re.split(r"[,，;；。\s]+", text)):
        probe = re.sub(_NOT_REMOVE, "保留", part)  # "不要删" is one instruction: keep
        if sum(bool(re.search(kind, probe)) for kind in _ACTION_KINDS) < 2:
            clauses.append(part)
        elif _ACTION.match(part):  # the action first: cut before each action
            clauses += [c for c in re.split(f"(?=(?:{_ACTION.pattern}))", part) if c]
        else:  # the rows first: cut after each action
            clauses += re.findall(rf".+?(?:{_ACTION.pattern})(?:掉|了|吧)*", part)
    return [c for c in clauses if _ACTION.search(c)]


def _apply_to_rows(text: str, trial: _Trial) -> bool:
    """Try the change ``text`` asks for on the rows it names; False if it names none."""
    ctx = trial.ctx
    rows = _rows_named(text, ctx) if not re.search(r"行", text) else _row_numbers(text)
    if rows is None:
        return False  # not about rows: perhaps a question, answered in place
    if not rows:
        raise Invalid(say("enroll_fix_no_rows"))
    known = {p["row"] for p in people_of(ctx)} | {int(r) for r in ctx.slots.get(ERRORS, {})}
    unknown = [r for r in rows if r not in known]
    if unknown:
        raise Invalid(say("enroll_fix_unknown_row", rows="、".join(map(str, unknown))))
    if re.search(_NOT_REMOVE, text) or (re.search(_KEEP, text) and not re.search(_REMOVE, text)):
        trial("keep", rows)
    elif re.search(_REMOVE, text):
        trial("remove", rows)
    elif re.search(_NO_SI, text):
        trial("no_si", rows)
    elif re.search(_IN_SERVICE, text):
        trial("in_service", rows)
    else:
        raise Invalid(say("enroll_fix_what", rows="、".join(map(str, rows))))
    return True


def _chosen_people(ctx: FlowContext, rows: Sequence[int]) -> list[dict[str, Any]]:
    """The people of ``rows``; a row with errors has none to decide for: say so."""
    by_row = {p["row"]: p for p in people_of(ctx)}
    for row in rows:
        if str(row) in ctx.slots.get(SI_ROWS, {}):
            raise Invalid(say("enroll_fix_si_row", row=row))
        if row not in by_row:
            raise Invalid(say("enroll_fix_error_row", row=row))
    return [by_row[row] for row in rows]


def _settled(ctx: FlowContext, rows: Sequence[int]) -> list[dict[str, Any]]:
    """The people of ``rows`` for a 是否有社保 answer given in chat: the draft's people, and
    the rows kept out only by that answer (marked "pending", 是 until the caller says
    otherwise; ``_admit`` makes them people). Any other row is refused before any change."""
    pending = ctx.slots.get(SI_ROWS, {})
    by_row = {p["row"]: p for p in people_of(ctx)}
    for row in rows:
        if row not in by_row and str(row) not in pending:
            raise Invalid(say("enroll_fix_error_row", row=row))
    return [by_row.get(row) or _pending_person(row, pending[str(row)]) for row in rows]


def _pending_person(row: int, pending: dict[str, Any]) -> dict[str, Any]:
    return {
        "row": row,
        "masked": pending["masked"],
        "hash": pending["hash"],
        "si": True,
        "over": pending["over"],
        "keep": False,
        "conflict": False,
        "elsewhere": pending["elsewhere"],
        "pending": True,
    }


def _admit(ctx: FlowContext, person: dict[str, Any]) -> None:
    """A row settled in chat joins the people; its errors (all about 是否有社保) go."""
    if not person.pop("pending", False):
        return
    ctx.slots.get(SI_ROWS, {}).pop(str(person["row"]), None)
    ctx.slots.get(ERRORS, {}).pop(str(person["row"]), None)
    people = people_of(ctx)
    people.append(person)
    people.sort(key=lambda p: int(p["row"]))


def _limit(ctx: FlowContext, row: int) -> int:
    """The age limit of the person of ``row`` (a woman's when the rows cannot be opened)."""
    policy = policy_of(ctx)
    person = (sealed_people(ctx) or {}).get(row)
    return age_limit(person.sex, policy) if person else policy.age_limits.female


def _remove(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    names, gone = names_of(ctx), set(rows)
    errors = ctx.slots.get(ERRORS, {})
    pending = ctx.slots.get(SI_ROWS, {})
    for row in gone:
        errors.pop(str(row), None)
        pending.pop(str(row), None)
    ctx.slots[PEOPLE] = [p for p in people_of(ctx) if p["row"] not in gone]
    if len(rows) > SHOWN_REMOVALS:
        done.append(say("enroll_fix_removed_many", rows=len(rows)))
        return
    done += [say("enroll_fix_removed", row=row, name=names.get(row, "")) for row in rows]


def _keep(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    people, names = _chosen_people(ctx, rows), names_of(ctx)
    for person in people:  # all checked before any is changed
        if not (person["over"] and person["si"]) and not person.get("elsewhere"):
            raise Invalid(say("enroll_fix_not_over", row=person["row"]))
    for person in people:
        row, name = person["row"], names.get(person["row"], "")
        if person["over"] and person["si"]:
            person["keep"] = True
            done.append(say("enroll_fix_kept", row=row, name=name))
        else:  # in another draft: nothing blocks them, nothing to keep
            done.append(say("enroll_fix_kept_elsewhere", row=row, name=name))


def _set_in_service(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    people, names = _settled(ctx, rows), names_of(ctx)
    for person in people:
        if person["si"] and not person.get("pending"):
            over = category_of(person) is Category.OVER_AGE
            key = "enroll_fix_already_si_over" if over else "enroll_fix_already_si"
            raise Invalid(say(key, row=person["row"]))
    for person in people:
        row, name = person["row"], names.get(person["row"], "")
        if person.get("pending"):  # the 是否有社保 cell was blank, unreadable or 否
            _admit(ctx, person)
            if person["over"]:
                done.append(say("enroll_fix_si_set_over", row=row, name=name,
                                limit=_limit(ctx, row)))  # fmt: skip
            else:
                done.append(say("enroll_fix_si_set", row=row, name=name))
            continue
        person["si"] = True
        done.append(say("enroll_fix_in_service", row=row, name=name))


def _set_no_si(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    """ "第12行没有社保": the answer 否, for a person under the age limit (over it, a person
    without social insurance cannot enroll)."""
    people, names = _settled(ctx, rows), names_of(ctx)
    for person in people:
        row = person["row"]
        if person["over"]:
            raise Invalid(say("enroll_fix_no_si_over", row=row, limit=_limit(ctx, row)))
        if not person["si"]:
            raise Invalid(say("enroll_fix_already_no_si", row=row))
    for person in people:
        _admit(ctx, person)
        person["si"] = False
        done.append(say("enroll_fix_no_si", row=person["row"], name=names.get(person["row"], "")))


_CHANGES: dict[str, Callable[[FlowContext, Sequence[int], list[str]], None]] = {
    "remove": _remove,
    "keep": _keep,
    "in_service": _set_in_service,
    "no_si": _set_no_si,
}
"""The changes to rows a unit makes in chat; each says in ``done`` what it did."""


async def _fixed_in_chat(ctx: FlowContext) -> list[Reply]:
    done: list[str] = []
    for change, rows in ctx.slots.pop(FIX, None) or []:
        _CHANGES[change](ctx, rows, done)
    claim_ids(ctx)
    return [Reply("\n".join(done))] if done else []


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
        raise Invalid(say("enroll_bad_count"))
    if VAGUE_COUNT.search(text):
        raise Invalid(say("vague_count"))
    value = extract_count(text)
    if value is None:
        return None
    if value > MAX_COUNT:
        raise Invalid(say("enroll_bad_count"))
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
        return say(key, count=value)

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
        return Reply(say(key), (Choice(say("enroll_unknown"), "v:unknown"),))

    return prompt


async def _unit_check(ctx: FlowContext) -> list[Reply]:
    unit = check_unit(enrolling(ctx), **_unit_check_args(ctx))
    ctx.slots[ATTACHMENTS] = [[a.name, a.reason, a.conditional] for a in unit.attachments]
    text = say("enroll_unit_result", notes=unit.notes, attachments=unit.attachments)
    return [Reply(text)]


def _plans_fixed(ctx: FlowContext) -> bool:
    return bool(fixed_plans_of(ctx))


_AFTER_CHECK = (Go(FIX, when=_roster_checked), Go(ROSTER))

STEPS = (
    Step(ROSTER, prompt=_ask_roster, extract=_roster, accepts_files=True, prepare=_prepare_upload,
         transitions=(Go("send_template", when=_answered(ROSTER, "template")),
                      Go("check_roster", when=_uploaded), Go(FIX))),
    Step("send_template", act=_send_template, transitions=(ROSTER,)),
    Step("check_roster", act=_check_roster, transitions=_AFTER_CHECK),
    Step(EARLY_STEP, act=_check_early, transitions=_AFTER_CHECK),
    Step(FIX, prompt=_ask_fix, extract=_fix, accepts_files=True, prepare=_prepare_upload,
         transitions=(Go("check_roster", when=_answered(FIX, "uploaded")),
                      Go("fixed_in_chat", when=_changes_asked),
                      Go("fix_template", when=_answered(FIX, "template")),
                      Go(SI_PAYERS, when=_answered(CODE, "no")), Go(LAST_YEAR))),
    Step("fixed_in_chat", act=_fixed_in_chat, transitions=(FIX,)),
    Step("fix_template", act=_send_template_to_fix, transitions=(FIX,)),
    Step(LAST_YEAR, prompt=_ask_count("enroll_ask_last_year"), extract=_count,
         transitions=(Go("unit_check", when=_ratio_settled), Go(SI_PAYERS)),
         corrects=r"去年", show=_show_count("enroll_last_year_shown")),
    Step(SI_PAYERS, prompt=_ask_count("enroll_ask_si_payers"), extract=_count,
         transitions=("unit_check",), corrects=r"缴社保|交社保|社保人数|缴费人数|参保人数",
         show=_show_count("enroll_si_payers_shown")),
    Step("unit_check", act=_unit_check, replay=True,
         transitions=(Go("plans_review", when=_plans_fixed), Go(PLAN_SLOTS["A"]))),
)  # fmt: skip
