"""The enrollment draft as one typed object: the people of the checked roster with the
decisions made in chat, the rows kept out only by their 是否有社保 answer, the findings by
row (codes and values, rendered when shown), and the roster rows sealed by the vault.

``draft_of`` loads it from the flow's slots once per turn and opens the sealed rows at most
once; the act that changes it writes it back with ``Draft.save``. The JSON in the slots
keeps the layout drafts were saved in before (``people``, ``si_rows``, ``errors``,
``sealed``, ``error_names``), and drafts saved with findings as ready sentences still load.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, PrivateAttr, model_validator

from flows.flow import FlowContext
from flows.vault import Vault
from rules.catalog import say
from rules.ids import DocType, Sex
from rules.people import Category, decided_category
from rules.roster import Code, Person, RowFinding

PEOPLE, ERRORS, SEALED, SI_ROWS = "people", "errors", "sealed", "si_rows"
ERROR_NAMES = "error_names"
"""The names on rows with errors, sealed like the people, so "把张三删了" finds them."""


class Member(BaseModel):
    """A person of the draft: the row, the masked number and keyed ID hash, whether they
    pay social insurance (``si``), are over the age limit as 职保 staff (``over``), are kept
    anyway (``keep``), and whether another unit's draft holds the same number
    (``elsewhere``: a warning only, a draft is no enrollment; ``conflict``, from drafts
    saved when it excluded people, is read as a warning too)."""

    row: int
    masked: str
    hash: str
    si: bool
    over: bool
    keep: bool = False
    conflict: bool = False
    elsewhere: bool = False

    @model_validator(mode="after")
    def _conflict_is_a_warning(self) -> Member:
        if self.conflict:
            self.conflict, self.elsewhere = False, True
        return self

    @property
    def category(self) -> Category:
        """The category after the decisions made in chat."""
        return decided_category(social_insurance=self.si, over_age=self.over, kept=self.keep)


class Unsettled(BaseModel):
    """A row kept out only by its 是否有社保 answer (blank or unreadable: ``blank``; or 否 at
    an age only 职保 staff may enroll): the unit settles it in chat ("第12行设为在职")."""

    masked: str
    hash: str
    over: bool
    elsewhere: bool
    blank: bool

    def member(self, row: int) -> Member:
        """The row as a person of the draft, answering 是 until told otherwise."""
        return Member(
            row=row, masked=self.masked, hash=self.hash, si=True, over=self.over,
            elsewhere=self.elsewhere,
        )  # fmt: skip


class Finding(BaseModel):
    """A problem in one cell: its column, the rules' code, and the catalog key and values of
    its sentence, rendered when shown (an old 15-digit ID names the annotated workbook
    instead). ``message`` is a ready sentence only in drafts saved before findings kept keys."""

    column: str = ""
    code: str = ""
    key: str = ""
    values: dict[str, Any] = {}
    message: str = ""

    @classmethod
    def of(cls, finding: RowFinding, report: str) -> Finding:
        if finding.code is Code.ID_OLD_15:  # the full number is in the annotated workbook
            return cls(column=finding.column, code=finding.code, values={"file": report})
        values = {name: _stored(value) for name, value in finding.sentence.values}
        return cls(column=finding.column, code=finding.code, key=finding.sentence.key,
                   values=values)  # fmt: skip

    def text(self) -> str:
        if not self.code:  # saved as a ready sentence by an older draft
            return self.message
        if self.code == Code.ID_OLD_15:
            message = say("enroll_old_id", file=self.values.get("file", ""))
        else:
            message = say(self.key, **self.values) if self.key else self.message
        return say("enroll.finding_column", column=self.column) + message


def _stored(value: object) -> Any:
    """A sentence's value as JSON keeps it: numbers and words as they are, lists item by
    item, anything else (a sentence inside a sentence) as its text."""
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_stored(item) for item in value]
    return str(value)


class Draft(BaseModel):
    """The people side of an enrollment draft (see the module's docstring)."""

    people: list[Member] = []
    unsettled: dict[int, Unsettled] = {}
    findings: dict[int, list[Finding]] = {}
    sealed: str | None = None
    error_names: str | None = None
    _rows: dict[int, Person] | None = PrivateAttr(default=None)
    _names: dict[int, str] | None = PrivateAttr(default=None)
    _opened: bool = PrivateAttr(default=False)

    @classmethod
    def load(cls, slots: dict[str, Any]) -> Draft:
        errors = {
            row: [{"message": f} if isinstance(f, str) else f for f in found]
            for row, found in (slots.get(ERRORS) or {}).items()
        }
        return cls.model_validate(
            {
                "people": slots.get(PEOPLE) or [],
                "unsettled": slots.get(SI_ROWS) or {},
                "findings": errors,
                "sealed": slots.get(SEALED) if isinstance(slots.get(SEALED), str) else None,
                "error_names": slots.get(ERROR_NAMES)
                if isinstance(slots.get(ERROR_NAMES), str)
                else None,
            }
        )

    def save(self, slots: dict[str, Any]) -> None:
        slots[PEOPLE] = [m.model_dump() for m in self.people]
        slots[SI_ROWS] = {str(row): u.model_dump() for row, u in self.unsettled.items()}
        slots[ERRORS] = {
            str(row): [f.model_dump(exclude_defaults=True) for f in found]
            for row, found in self.findings.items()
        }
        for slot, token in ((SEALED, self.sealed), (ERROR_NAMES, self.error_names)):
            if token is not None:
                slots[slot] = token

    def trial(self) -> Draft:
        """A copy to try changes on; the opened rows are shared (they never change)."""
        copy = self.model_copy(deep=True)
        copy._rows, copy._names, copy._opened = self._rows, self._names, self._opened
        return copy

    def rows(self, vault: Vault) -> dict[int, Person] | None:
        """The roster rows sealed at upload, by row, or None if they cannot be opened."""
        if not self._opened:
            self._opened = True
            self._rows = _open_rows(vault, self.sealed)
            names = {row: p.name for row, p in (self._rows or {}).items()}
            pairs = vault.unseal(self.error_names) if self.error_names else None
            if isinstance(pairs, list):
                names.update({int(row): str(name) for row, name in pairs})
            self._names = names
        return self._rows

    def names(self, vault: Vault) -> dict[int, str]:
        """The names on the roster's rows, of the people and of the rows with errors."""
        self.rows(vault)
        return self._names or {}

    def counts(self) -> dict[Category, int]:
        counts = {Category.ZHIBAO: 0, Category.NON_ZHIBAO: 0}
        for member in self.people:
            if member.category in counts:
                counts[member.category] += 1
        return counts


def _open_rows(vault: Vault, token: str | None) -> dict[int, Person] | None:
    rows = vault.unseal(token) if token else None
    if not isinstance(rows, list):
        return None
    out = {}
    try:
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
    except (TypeError, ValueError):  # a draft sealed by an older layout: ask for the file
        return None
    return out


_MEMO = "enroll.draft"


def draft_of(ctx: FlowContext) -> Draft:
    """This turn's draft, loaded from the slots the first time it is asked for."""
    held = ctx.memo.get(_MEMO)
    if held is not None and held[0] is ctx.slots:
        draft: Draft = held[1]
        return draft
    draft = Draft.load(ctx.slots)
    ctx.memo[_MEMO] = (ctx.slots, draft)
    return draft


def trying(ctx: FlowContext) -> FlowContext:
    """A context whose draft is a copy: changes tried on it leave the draft unchanged."""
    draft = draft_of(ctx)
    if ctx.vault is not None:
        draft.rows(ctx.vault)  # opened once, for the trial and the act alike
    trial = replace(ctx, slots=dict(ctx.slots), memo={})
    trial.memo[_MEMO] = (trial.slots, draft.trial())
    return trial


def save_draft(ctx: FlowContext, draft: Draft | None = None) -> None:
    """Write this turn's draft (or ``draft``, a new one replacing it) into the slots."""
    if draft is not None:
        ctx.memo[_MEMO] = (ctx.slots, draft)
    draft_of(ctx).save(ctx.slots)
