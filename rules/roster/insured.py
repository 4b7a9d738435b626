"""Rows kept out only for their social-insurance answer, settled in chat.

A row whose only errors come from its 是否有社保 cell (blank, unreadable, or 否 at an age
only 职保 staff may enroll) need not be re-uploaded: the unit says in chat that the person
pays social insurance, and the row is checked again with 是.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from rules.policy import PolicyYear
from rules.roster.model import Code, Person, RosterCheck, RosterField, RosterRow, RowFinding
from rules.roster.rows import check_rows


def _only_si_answer_wrong(errors: Sequence[RowFinding]) -> bool:
    """Whether a row's errors all come from its 是否有社保 answer: blank, unreadable, or
    否 at an age only 职保 staff may enroll (the message says to change it to 是)."""
    return all(
        f.code in (Code.BAD_SI_FLAG, Code.INELIGIBLE)
        or (f.code is Code.MISSING_REQUIRED and f.field is RosterField.SOCIAL_INSURANCE)
        for f in errors
    )


def people_if_insured(
    rows: Sequence[RosterRow],
    check: RosterCheck,
    *,
    policy: PolicyYear,
    start: dt.date,
    headers: Mapping[RosterField, str] | None = None,
) -> tuple[Person, ...]:
    """The people of the rows ``check`` kept out only for their 是否有社保 answer, as they
    are once the unit says they pay social insurance (是): a 职保 employee, or an over-age
    one to remove or confirm. The unit settles such a row in chat instead of re-uploading.
    The rows' other cells were checked already (a duplicate number is an error of its own,
    so such a row is not here)."""
    errors_by_row: dict[int, list[RowFinding]] = {}
    for error in check.errors:
        errors_by_row.setdefault(error.row, []).append(error)
    wanted = {row for row, errors in errors_by_row.items() if _only_si_answer_wrong(errors)}
    fixed = [
        RosterRow(
            r.row,
            {**r.cells, RosterField.SOCIAL_INSURANCE: "是"},
            r.numeric - {RosterField.SOCIAL_INSURANCE},
            r.cleaned,
        )
        for r in rows
        if r.row in wanted
    ]
    return check_rows(fixed, policy=policy, start=start, headers=headers).people
