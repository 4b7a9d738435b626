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
clean roster are sealed by the vault and dropped once the summary is delivered (the next
message that does not ask for the summary again).

Modules: ``draft`` (slot names and the facts read from them), ``model`` (the typed
draft of people, findings and sealed rows), ``setup`` (1), ``prerequisites`` (2),
``roster`` with ``upload``, ``fixes`` and ``changes`` (3), ``plans`` (4), ``summary`` (5).
Which step follows which is declared with each step (``Go(target, when=condition)``).
"""

from __future__ import annotations

from typing import Any

from flows.enroll import plans, prerequisites, roster, setup, summary, upload
from flows.enroll.draft import (
    SUBMIT,
    UNIT,
    YEAR,
    start_of,
    wants_enrollment,
)
from flows.enroll.model import ERROR_NAMES, SEALED
from flows.flow import Flow, FlowContext, steps
from rules.catalog import say
from rules.dates import coverage_period
from rules.errors import NoPolicyData


def _prefill(text: str, ctx: FlowContext) -> None:
    setup.prefill_submit(text, ctx)
    setup.prefill_joined(text, ctx)
    setup.prefill_fixed(text, ctx)
    prerequisites.prefill_prerequisites(text, ctx)
    roster.prefill_counts(text, ctx)
    plans.prefill_plans(text, ctx)


def _shares(ctx: FlowContext) -> dict[str, Any]:
    """A quote asked mid-enrollment starts when this enrollment would: on the submission
    date's start, or before one is given, on the start of a roster submitted today."""
    if SUBMIT in ctx.slots:
        return {"start": start_of(ctx).isoformat()}
    try:
        return {"start": coverage_period(ctx.today).start.isoformat()}
    except NoPolicyData:
        return {}


def _discard(ctx: FlowContext) -> None:
    """A deleted draft's people are free for other units' drafts again."""
    if YEAR in ctx.slots:
        ctx.claim((ctx.slots[YEAR], str(ctx.slots.get(UNIT, "")), ()))


ENROLL = Flow(
    name="enroll",
    title=say("enroll.title"),
    start="intro",
    prefill=_prefill,
    resumable=True,
    early_file=upload.keep_early_roster,
    discard=_discard,
    result_step="summary",
    held=(SEALED, ERROR_NAMES),
    shares=_shares,
    steps=steps(*setup.STEPS, *prerequisites.STEPS, *roster.STEPS, *plans.STEPS, *summary.STEPS),
)

__all__ = ["ENROLL", "wants_enrollment"]
