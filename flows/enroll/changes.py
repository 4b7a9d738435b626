"""The changes to rows a unit makes in chat (remove, keep an over-age person, set 是否有社保
to 是 or 否), applied to the draft's people by the act after the fix question, each saying
what it did."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flows.enroll.draft import (
    FIX,
    SHOWN_REMOVALS,
    claim_ids,
    names_of,
    policy_of,
    sealed_people,
)
from flows.enroll.model import Draft, Member, draft_of, save_draft
from flows.flow import FlowContext, Invalid
from flows.messages import Reply
from rules.catalog import say
from rules.people import Category, age_limit


def _chosen_people(draft: Draft, rows: Sequence[int]) -> list[Member]:
    """The people of ``rows``; a row with errors has none to decide for: say so."""
    by_row = {p.row: p for p in draft.people}
    for row in rows:
        if row in draft.unsettled:
            raise Invalid(say("enroll_fix_si_row", row=row))
        if row not in by_row:
            raise Invalid(say("enroll_fix_error_row", row=row))
    return [by_row[row] for row in rows]


def _settled(draft: Draft, rows: Sequence[int]) -> list[tuple[Member, bool]]:
    """The people of ``rows`` for a 是否有社保 answer given in chat: the draft's people, and
    the rows kept out only by that answer (marked pending, 是 until the caller says
    otherwise; ``_admit`` makes them people). Any other row is refused before any change."""
    by_row = {p.row: p for p in draft.people}
    for row in rows:
        if row not in by_row and row not in draft.unsettled:
            raise Invalid(say("enroll_fix_error_row", row=row))
    return [
        (by_row[row], False) if row in by_row else (draft.unsettled[row].member(row), True)
        for row in rows
    ]


def _admit(draft: Draft, person: Member) -> None:
    """A row settled in chat joins the people; its errors (all about 是否有社保) go."""
    draft.unsettled.pop(person.row, None)
    draft.findings.pop(person.row, None)
    draft.people.append(person)
    draft.people.sort(key=lambda p: p.row)


def age_limit_of(ctx: FlowContext, row: int) -> int:
    """The age limit of the person of ``row`` (a woman's when the rows cannot be opened)."""
    policy = policy_of(ctx)
    person = (sealed_people(ctx) or {}).get(row)
    return age_limit(person.sex, policy) if person else policy.age_limits.female


def _remove(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    draft, names, gone = draft_of(ctx), names_of(ctx), set(rows)
    for row in gone:
        draft.findings.pop(row, None)
        draft.unsettled.pop(row, None)
    draft.people = [p for p in draft.people if p.row not in gone]
    if len(rows) > SHOWN_REMOVALS:
        done.append(ctx.say("enroll_fix_removed_many", rows=len(rows)))
        return
    done += [ctx.say("enroll_fix_removed", row=row, name=names.get(row, "")) for row in rows]


def _keep(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    people, names = _chosen_people(draft_of(ctx), rows), names_of(ctx)
    for person in people:  # all checked before any is changed
        if not (person.over and person.si) and not person.elsewhere:
            raise Invalid(ctx.say("enroll_fix_not_over", row=person.row))
    for person in people:
        row, name = person.row, names.get(person.row, "")
        if person.over and person.si:
            person.keep = True
            done.append(ctx.say("enroll_fix_kept", row=row, name=name))
        else:  # in another draft: nothing blocks them, nothing to keep
            done.append(ctx.say("enroll_fix_kept_elsewhere", row=row, name=name))


def _set_in_service(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    draft, names = draft_of(ctx), names_of(ctx)
    people = _settled(draft, rows)
    for person, pending in people:
        if person.si and not pending:
            over = person.category is Category.OVER_AGE
            key = "enroll_fix_already_si_over" if over else "enroll_fix_already_si"
            raise Invalid(ctx.say(key, row=person.row))
    for person, pending in people:
        row, name = person.row, names.get(person.row, "")
        if pending:  # the 是否有社保 cell was blank, unreadable or 否
            _admit(draft, person)
            if person.over:
                done.append(ctx.say("enroll_fix_si_set_over", row=row, name=name,
                                limit=age_limit_of(ctx, row)))  # fmt: skip
            else:
                done.append(ctx.say("enroll_fix_si_set", row=row, name=name))
            continue
        person.si = True
        done.append(ctx.say("enroll_fix_in_service", row=row, name=name))


def _set_no_si(ctx: FlowContext, rows: Sequence[int], done: list[str]) -> None:
    """ "第12行没有社保": the answer 否, for a person under the age limit (over it, a person
    without social insurance cannot enroll)."""
    draft, names = draft_of(ctx), names_of(ctx)
    people = _settled(draft, rows)
    for person, _ in people:
        if person.over:
            raise Invalid(ctx.say("enroll_fix_no_si_over", row=person.row,
                              limit=age_limit_of(ctx, person.row)))  # fmt: skip
        if not person.si:
            raise Invalid(ctx.say("enroll_fix_already_no_si", row=person.row))
    for person, pending in people:
        if pending:
            _admit(draft, person)
        person.si = False
        done.append(ctx.say("enroll_fix_no_si", row=person.row, name=names.get(person.row, "")))


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
    save_draft(ctx)
    claim_ids(ctx)
    return [Reply("\n".join(done))] if done else []
