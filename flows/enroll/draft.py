"""The enrollment draft: its slots, and the facts the steps read from them.

Answers are JSON in the conversation's slots (dates as ISO strings); the people side of the
draft (people, findings, sealed rows) is the typed ``model.Draft`` kept in the same slots."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flows.enroll.model import (
    Member,
    draft_of,
)
from flows.extract import QUESTION, extract_yes_no, normalize_text
from flows.flow import FlowContext
from flows.messages import Choice
from flows.storage import PersonClaim
from flows.vault import Vault
from rules.catalog import say
from rules.dates import Mode, add_working_days, coverage_period, estimate_notice, mode_on
from rules.fmt import cn_date
from rules.people import Category
from rules.policy import PolicyYear, Series, policy_for_enrollment_date
from rules.roster import Person

# Slots. Answers to questions carry the step's name; the draft's own data is prefixed.
JOINED, FIXED, SUBMIT = "joined", "fixed_plans", "submit"
ACCOUNT, CODE, OPERATOR, UNIT, WAIT = "account", "code", "operator", "unit", "wait"
ROSTER, FIX, LAST_YEAR, SI_PAYERS = "roster", "roster_ok", "last_year", "si_payers"
SERIES: tuple[Series, ...] = ("A", "B", "C")
PLAN_SLOTS = {s: f"plan_{s}" for s in SERIES}
MODE, YEAR = "mode", "year"
FILE, ROWS, ATTACHMENTS, PLANS, CODE_VALUE = "file", "rows", "attachments", "plans", "code_no"
EARLY_STEP = "check_early_roster"
"""The act that checks a roster sent before the roster step, run in that step's place."""
EARLY = "early_roster"
"""A roster sent before the roster step, sealed (file name and bytes): checked when the
step comes."""
EARLY_MAX_BYTES = 2 * 1024 * 1024
"""The biggest early roster kept in the draft (5000 rows take well under 1 MB); a bigger
one is asked for again at the roster step."""

SHOWN_LINES = 12
"""Roster problems listed in chat; the annotated workbook has all of them."""
SHOWN_REMOVALS = 5
"""Rows removed at once that are named one by one; more are counted."""
UNIT_NAME_CHARS = (4, 60)
MAX_COUNT = 1_000_000
CLEAN_FILE, SUMMARY_FILE = "enroll.clean_file", "enroll.summary_file"
"""The catalog keys of the files the summary sends."""


_ENROLL_OBJECT = r"参.?保|投保|续保|加保|互助保障|互保|上保险|买保险|办保险"
_ENROLL_WANT = r"我要|我想|想|要|帮我|帮忙|给|开始|继续|接着|办理?|参加|加入"
_ENROLL_ASK = re.compile(
    rf"(帮我|帮忙|给我|我要|我们要)(办|弄|搞|操作)|({_ENROLL_OBJECT}).{{0,10}}(继续|接着)"
    rf"|({_ENROLL_OBJECT}).{{0,16}}(想|要)\S{{0,4}}(办|弄|参加)"
    r"|办一下|办理一下|报个?名|走一遍|走个流程|带我|带着我|帮我们办|给我们办"
    r"|帮.{0,6}(弄|办|搞|操作)|给.{0,4}(上上|上一下|办上|加上)"
)


_ENROLL_HOW = re.compile(
    rf"(请问|你好|您好)?[,，\s]*(我们)?(单位|公司)?(要)?(怎么|怎样|如何|咋)(才能)?(办理?|去|来)?({_ENROLL_OBJECT})"
    rf"(呢|啊)?[?？]?|(即时|集中)?({_ENROLL_OBJECT})(要|该)?(怎么|怎样|如何|咋)(操作|办理?|弄|搞|做)"
    r"(呢|啊)?[?？]?"
)
"""How to enroll ("怎么参保", "参保怎么操作"): the guided enrollment is the answer."""


def wants_enrollment(text: str) -> bool:
    """ "我要参保", "我们公司要办互助保障", "继续参保", "开始办理参保": not questions about it,
    unless the question also asks for it to be done ("…现在能办吗帮我办一下"). Requests in
    other words reach the flow through its intent examples."""
    text = normalize_text(text)
    if len(text) > 40 or not re.search(_ENROLL_OBJECT, text):
        return False
    if _ENROLL_ASK.search(text) or _ENROLL_HOW.fullmatch(text):
        return True
    return not QUESTION.search(text) and bool(
        re.search(rf"({_ENROLL_WANT}).{{0,12}}({_ENROLL_OBJECT})", text)
    )


# --- the draft's facts ----------------------------------------------------------------


def policy_of(ctx: FlowContext) -> PolicyYear:
    return policy_for_enrollment_date(ctx.today)


def mode_of(ctx: FlowContext) -> Mode:
    """The enrollment mode the introduction settled (or today's, before it has run)."""
    return Mode(ctx.slots[MODE]) if MODE in ctx.slots else mode_on(ctx.today)[1]


def submitted_on(ctx: FlowContext) -> dt.date:
    return dt.date.fromisoformat(ctx.slots[SUBMIT])


def start_of(ctx: FlowContext) -> dt.date:
    return coverage_period(submitted_on(ctx)).start


def fixed_plans_of(ctx: FlowContext) -> list[str] | None:
    return ctx.slots.get(FIXED) if ctx.slots.get(JOINED) else None


def people_of(ctx: FlowContext) -> list[Member]:
    """The draft's people, in row order."""
    return draft_of(ctx).people


def counts_of(ctx: FlowContext) -> dict[Category, int]:
    return draft_of(ctx).counts()


def vault_of(ctx: FlowContext) -> Vault:
    if ctx.vault is None:
        raise RuntimeError("the enrollment flow needs a vault")
    return ctx.vault


def sealed_people(ctx: FlowContext) -> dict[int, Person] | None:
    """The roster rows sealed at upload, by row, or None if they cannot be opened."""
    return draft_of(ctx).rows(vault_of(ctx))


def seal_rows(people: Iterable[Person]) -> list[list[Any]]:
    return [
        [p.row, p.name, p.doc_type.value, p.number, p.sex.value, p.birth_date.isoformat(),
         p.phone, p.has_social_insurance, p.category.value]
        for p in people
    ]  # fmt: skip


def names_of(ctx: FlowContext) -> dict[int, str]:
    return draft_of(ctx).names(vault_of(ctx))


def claim_ids(ctx: FlowContext) -> None:
    """This draft's people claim their IDs for the year (one enrollment per ID per year)."""
    claims = tuple(PersonClaim(p.hash, p.masked) for p in people_of(ctx))
    ctx.claim((ctx.slots[YEAR], ctx.slots[UNIT], claims))


def answered(slot: str, value: str) -> Callable[[FlowContext], bool]:
    """A transition's condition: the question ``slot`` was answered ``value``."""

    def holds(ctx: FlowContext) -> bool:
        return bool(ctx.slots.get(slot) == value)

    return holds


def working_day(start: dt.date, days: int) -> str:
    """The date a review of ``days`` working days ends (an estimate past the official
    calendar's data: whoever shows it appends :func:`estimated`)."""
    return cn_date(add_working_days(start, days))


def estimated(text: str, start: dt.date, days: int) -> str:
    """``text`` showing a date ``days`` working days after ``start``, with the notice that
    it is an estimate counting weekends only when the official calendar lacks that year."""
    notice = estimate_notice(start, add_working_days(start, days))
    if notice is None:
        return text
    return text.rstrip("\n") + ("\n" if "\n" in text.strip() else "") + notice.text


_TOPIC = re.compile(
    r"^(我们|我|单位|公司)?(的)?(平台)?(账号|帐号|账户|参保编码|编码|经办人信息|经办人|信息)?"
    r"(也|都|倒是|其实|实际上|应该)*\s*"
)
"""What an answer says first about its topic ("编码有的", "账号其实没有")."""


def answer_extractor(
    patterns: Sequence[tuple[str, str]],
) -> Callable[[str, FlowContext], str | None]:
    """An extractor mapping the first matching pattern (or a button value) to its answer;
    a plain yes or no ("对", "好的", "不行") gives "yes" or "no" where the step has them."""
    values = {value for value, _ in patterns}

    def extract(text: str, ctx: FlowContext) -> str | None:
        text = normalize_text(text)
        if text in values:
            return text
        if QUESTION.search(re.sub(r"^(没有?|还没|有|是)呢", "", text)):
            return None  # a side question, answered by the knowledge base ("没呢…" is no)
        text = _TOPIC.sub("", text, count=1)
        if "yes" in values and re.search(r"没问题|没错|没毛病", text):
            return "yes"
        for value, pattern in patterns:
            if re.search(pattern, text):
                return value
        plain = extract_yes_no(text)
        if plain is not None and {"yes", "no"} <= values:
            return "yes" if plain else "no"
        return None

    return extract


def buttons(*pairs: tuple[str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(say(label), f"v:{value}") for label, value in pairs)
