"""The roster files of step 3: the import template sent on request, and an upload read off
the event loop (reporting its progress), checked row by row for the coverage start and
stored in the draft (ID hashes, sealed rows, the findings, the annotated workbook sent
back). A roster sent before its step is kept sealed and checked when the step comes."""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import datetime as dt
from dataclasses import dataclass, field

from flows.enroll.draft import (
    ATTACHMENTS,
    EARLY,
    EARLY_MAX_BYTES,
    FILE,
    FIX,
    LAST_YEAR,
    ROSTER,
    ROWS,
    SHOWN_LINES,
    SI_PAYERS,
    SUBMIT,
    UNIT,
    YEAR,
    claim_ids,
    names_of,
    policy_of,
    seal_rows,
    start_of,
    vault_of,
)
from flows.enroll.model import SEALED, Draft, Finding, Member, Unsettled, draft_of, save_draft
from flows.flow import FlowContext
from flows.messages import Choice, OutgoingFile, Reply
from rules.ids import mask_id
from rules.people import Category
from rules.privacy import mask_personal_data
from rules.roster import (
    Code,
    Person,
    RosterCheck,
    RosterField,
    check_rows,
    people_if_insured,
)
from sheets.enroll_files import (
    report_bytes,
    template_bytes,
)
from sheets.roster_file import FileFinding, RosterFile, read_roster_bytes


def _template_sent(ctx: FlowContext) -> list[Reply]:
    data = template_bytes(policy_of(ctx))
    return [
        Reply(
            ctx.say("enroll_template_sent"),
            files=(OutgoingFile(ctx.say("enroll.template_file"), data),),
        )
    ]


async def send_template(ctx: FlowContext) -> list[Reply]:
    ctx.slots.pop(ROSTER, None)
    return _template_sent(ctx)


async def send_template_to_fix(ctx: FlowContext) -> list[Reply]:
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
            await progress(ctx.say("enroll_reading", done=done, total=total))

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


async def prepare_upload(ctx: FlowContext) -> CheckedUpload | None:
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


async def check_roster(ctx: FlowContext) -> list[Reply]:
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
            message = f"{message}\n{ctx.say('enroll_template_offer')}"
        if SEALED in ctx.slots:  # a roster checked before stays, with its fixes
            ctx.slots[ROSTER] = "checked"
            kept = ctx.say("enroll_previous_kept", file=ctx.slots[FILE])
            offer = (Choice(ctx.say("enroll_template_button"), "v:模板"),) if template else ()
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
    blank_si = {
        f.row
        for f in check.errors
        if f.field is RosterField.SOCIAL_INSURANCE
        and f.code in (Code.MISSING_REQUIRED, Code.BAD_SI_FLAG)
    }
    report_name = name.rsplit(".", 1)[0] + ctx.say("enroll.report_suffix")
    findings: dict[int, list[Finding]] = {}
    for f in check.errors:
        findings.setdefault(f.row, []).append(Finding.of(f, mask_personal_data(report_name)))
    draft = Draft(
        people=[
            Member(row=p.row, masked=mask_id(p.number), hash=hashes[p.row],
                   si=p.has_social_insurance, over=p.category is Category.OVER_AGE,
                   elsewhere=hashes[p.row] in elsewhere)
            for p in check.people
        ],
        unsettled={
            p.row: Unsettled(masked=mask_id(p.number), hash=hashes[p.row],
                             over=p.category is Category.OVER_AGE,
                             elsewhere=hashes[p.row] in elsewhere, blank=p.row in blank_si)
            for p in upload.insured
        },
        findings=findings,
        sealed=upload.sealed,
        error_names=upload.error_names,
    )  # fmt: skip
    save_draft(ctx, draft)
    ctx.slots[FILE], ctx.slots[ROWS] = mask_personal_data(name), check.rows
    ctx.slots[ROSTER] = "checked"  # a correction of an earlier answer keeps this roster
    claim_ids(ctx)
    replies = [Reply("\n".join([*roster.notes, _roster_read_text(ctx, check)]))]
    if check.findings and upload.report is not None:
        caption = ctx.say("enroll_report_caption")
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
        return [Reply(ctx.say("enroll_early_too_big", file=shown))]
    replaced = EARLY in ctx.slots
    token = [name, base64.b64encode(data).decode("ascii")]
    ctx.slots[EARLY] = vault_of(ctx).seal(token)
    return [Reply(ctx.say("enroll_early_kept", file=shown, replaced=replaced))]


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


async def check_early(ctx: FlowContext) -> list[Reply]:
    """The roster step reached with a roster sent before it: that roster is checked now."""
    upload = _early_upload(ctx)
    if upload is None:
        return [Reply(ctx.say("enroll_early_lost"))]  # the roster question comes next
    return [Reply(ctx.say("enroll_early_checking")), *await _check(ctx, *upload)]


def _roster_read_text(ctx: FlowContext, check: RosterCheck) -> str:
    """Rows = people + rows with errors; people = 职保在职 + 非职保 + 职保超龄 (to decide).
    Rows with errors are in no category: they enroll nobody until fixed or removed."""
    draft = draft_of(ctx)
    people = draft.people
    categories = [p.category for p in people]
    names = names_of(ctx)
    pending = [u.member(row) for row, u in draft.unsettled.items()]
    elsewhere = [
        ctx.say("enroll_line_elsewhere", row=p.row, name=names.get(p.row, ""), masked=p.masked)
        for p in sorted([*people, *pending], key=lambda p: p.row)
        if p.elsewhere
    ]
    text = ctx.say(
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
        text += "\n" + ctx.say(
            "enroll_elsewhere",
            count=len(elsewhere),
            lines=elsewhere[:SHOWN_LINES],
            more=max(0, len(elsewhere) - SHOWN_LINES),
        )
    return text
