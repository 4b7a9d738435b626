"""Fixing the checked roster in chat (step 3): the problems listed with the fix question,
and the unit's instructions ("删除第3、5行", "老孙保留小吴删掉", "第12行设为在职") read into
changes to rows, each tried on a copy of the draft so that a refused one says why before
anything changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flows.enroll.changes import CHANGES, age_limit_of
from flows.enroll.draft import (
    SHOWN_LINES,
    buttons,
    counts_of,
    names_of,
    people_of,
    sealed_people,
    wants_enrollment,
)
from flows.enroll.model import draft_of, trying
from flows.extract import (
    cn_int,
    extract_yes_no,
    normalize_text,
)
from flows.flow import FlowContext, Invalid
from flows.messages import Choice, Reply
from rules.people import Category


def _problems(ctx: FlowContext) -> list[tuple[int, str]]:
    """(row, line) for everything that keeps the roster from passing, in row order."""
    names = {row: p.name for row, p in (sealed_people(ctx) or {}).items()}
    lines = [
        (int(row), ctx.say("enroll_line_error", row=row, text="；".join(f.text() for f in found)))
        for row, found in draft_of(ctx).findings.items()
    ]
    for p in people_of(ctx):
        name = names.get(p.row, "")
        if p.category is Category.OVER_AGE:
            limit = age_limit_of(ctx, p.row)
            line = ctx.say("enroll_line_over", row=p.row, name=name, masked=p.masked, limit=limit)
            lines.append((p.row, line))
    return sorted(lines)


def ask_fix(ctx: FlowContext) -> Reply:
    problems = _problems(ctx)
    counts = counts_of(ctx)
    if not problems:
        text = ctx.say(
            "enroll_fix_clean",
            ok=sum(counts.values()),
            zhibao=counts[Category.ZHIBAO],
            non_zhibao=counts[Category.NON_ZHIBAO],
        )
        return Reply(text, buttons(("enroll_fix_next", "done")))
    over = [p for p in people_of(ctx) if p.category is Category.OVER_AGE]
    blank = [row for row, u in draft_of(ctx).unsettled.items() if u.blank]
    text = ctx.say(
        "enroll_fix_list",
        count=len(problems),
        lines=[line for _, line in problems[:SHOWN_LINES]],
        more=max(0, len(problems) - SHOWN_LINES),
        example=problems[0][0],
        has_over=bool(over),
        over_example=over[0].row if over else 0,
        si_example=min(blank, default=0),
    )
    choices = [Choice(ctx.say("enroll_fix_drop_errors"), "v:drop-problems")]
    if over:
        choices.append(Choice(ctx.say("enroll_fix_keep_over"), "v:keep-over-age"))
    return Reply(text, tuple(choices))


_CN_ROW = re.compile(r"(?<=第)([一二两三四五六七八九十百]+)(?=\s*[行、,，和到至-])")


_ROW_RANGE = re.compile(r"(\d{1,5})\s*(?:-|~|－|到|至)\s*(\d{1,5})")


_ROW_NUMBER = re.compile(r"(?<!\d)\d{1,5}(?!\d)")


# What a message asks for the rows it names; the order of the checks is the priority.
_REMOVE = r"删|移除|去掉|不要|剔除|去除"


# No capturing groups in these: the clause splitting below uses them with findall/split.
_NO_SI = (
    r"(?:没有?|无|不交|没交|没缴|不缴|未交|未缴)社保|不是在职|非职保"
    r"|(?:改|设|填|写)(?:成|为)?[\"“”']?否|是否有社保.{0,2}否"
)


_IN_SERVICE = (
    r"设为在职|设置在职|设成在职|改为在职|改成在职|算在职|(?<!不)是在职|(?<![没无否])有社保"
    r"|(?:改|设|填|写)(?:成|为)?[\"“”']?是(?![否在])|是否有社保.{0,2}是(?![否在])"
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
        self.ctx = trying(ctx)
        self.changes: list[list[Any]] = []

    def __call__(self, change: str, rows: Sequence[int]) -> None:
        CHANGES[change](self.ctx, rows, [])
        self.changes.append([change, list(rows)])


def extract_fix(text: str, ctx: FlowContext) -> str | list[list[Any]] | None:
    """What the unit says of the roster checked: a new file, the template, "done", or
    changes to rows (``[[change, rows], ...]``, applied by ``fixed_in_chat``)."""
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
            raise Invalid(ctx.say("enroll_fix_blocked"))
        if not counts_of(ctx)[Category.ZHIBAO] + counts_of(ctx)[Category.NON_ZHIBAO]:
            raise Invalid(ctx.say("enroll_fix_none_left"))
        return "done"
    if text == "keep-over-age" or re.search(r"(超龄).{0,6}(都|全部)保留|(都|全部)保留", text):
        over = [p.row for p in people_of(ctx) if p.category is Category.OVER_AGE]
        trial("keep", over)
        return trial.changes
    if re.search(r"\d{15,}", text):
        # A new ID number typed in chat: it belongs in the file, checked with its row.
        raise Invalid(ctx.say("enroll_fix_id_in_chat"))
    clauses = _action_clauses(text)
    if len(clauses) > 1:  # "老孙保留小吴删掉": each instruction for its own rows
        for clause in clauses:
            if not _apply_to_rows(clause, trial):
                raise Invalid(ctx.say("enroll_fix_what_of", clause=clause))
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
        raise Invalid(ctx.say("enroll_fix_no_rows"))
    known = {p.row for p in people_of(ctx)} | set(draft_of(ctx).findings)
    unknown = [r for r in rows if r not in known]
    if unknown:
        raise Invalid(ctx.say("enroll_fix_unknown_row", rows="、".join(map(str, unknown))))
    if re.search(_NOT_REMOVE, text) or (re.search(_KEEP, text) and not re.search(_REMOVE, text)):
        trial("keep", rows)
    elif re.search(_REMOVE, text):
        trial("remove", rows)
    elif re.search(_NO_SI, text):
        trial("no_si", rows)
    elif re.search(_IN_SERVICE, text):
        trial("in_service", rows)
    else:
        raise Invalid(ctx.say("enroll_fix_what", rows="、".join(map(str, rows))))
    return True
