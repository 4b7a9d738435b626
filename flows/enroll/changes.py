"""The changes to rows a unit makes in chat (remove, keep an over-age person, set 是否有社保
to 是 or 否), applied to the draft's people by the act after the fix question, each saying
what it did."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flows.enroll.draft import (
    ERRORS,
    FIX,
    PEOPLE,
    SHOWN_REMOVALS,
    SI_ROWS,
    category_of,
    claim_ids,
    names_of,
    people_of,
    policy_of,
    sealed_people,
)
from flows.flow import FlowContext, Invalid
from flows.messages import Reply
from rules.catalog import say
from rules.people import Category, age_limit


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


def age_limit_of(ctx: FlowContext, row: int) -> int:
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
                                limit=age_limit_of(ctx, row)))  # fmt: skip
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
            raise Invalid(say("enroll_fix_no_si_over", row=row, limit=age_limit_of(ctx, row)))
        if not person["si"]:
            raise Invalid(say("enroll_fix_already_no_si", row=row))
    for person in people:
        _admit(ctx, person)
        person["si"] = False
        done.append(say("enroll_fix_no_si", row=person["row"], name=names.get(person["row"], "")))


CHANGES: dict[str, Callable[[FlowContext, Sequence[int], list[str]], None]] = {
    "remove": _remove,
    "keep": _keep,
    "in_service": _set_in_service,
    "no_si": _set_no_si,
}
"""The changes to rows a unit makes in chat; each says in ``done`` what it did."""


async def fixed_in_chat(ctx: FlowContext) -> list[Reply]:
    done: list[str] = []
    for change, rows in ctx.slots.pop(FIX, None) or []:
        CHANGES[change](ctx, rows, done)
    claim_ids(ctx)
    return [Reply("\n".join(done))] if done else []
