"""Unit checks: the platform's roster validation of a unit as a whole.

The change of the roster's size against last year (within a tolerance), the roster count
over the social-insurance payers on the unit's linked SI codes (within a band, exactly
100% for small units), and the documents a unit uploads when these checks ask for them.
What the unit is told comes as sentences of the catalog (``rules.unit.*``), with the
figures of the policy year checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from rules.fmt import percent
from rules.policy import PolicyYear
from rules.sentence import Sentence


class Document(StrEnum):
    """A document the unit may have to upload with its roster."""

    SI_DECLARATION = "si_declaration"
    SEALED_STATEMENT = "sealed_statement"
    TRANSFER_OUT = "transfer_out"
    PENSION = "pension"
    DISPATCH = "dispatch"
    APPOINTMENT = "appointment"
    TRANSFER_IN = "transfer_in"

    @property
    def label(self) -> str:
        """The document's name as the handbook writes it."""
        return Sentence(f"rules.document.{self}").text


# The handbook's sample supporting documents; each explains a situation
# (``rules.situation.<document>``).
SUPPORTING_DOCUMENTS: tuple[Document, ...] = (
    Document.TRANSFER_OUT,
    Document.PENSION,
    Document.DISPATCH,
    Document.APPOINTMENT,
    Document.TRANSFER_IN,
)


@dataclass(frozen=True)
class Attachment:
    document: Document
    why: Sentence
    conditional: bool = False
    """Uploaded only if the unit's situation matches (a supporting document)."""

    @property
    def name(self) -> str:
        """The document's name."""
        return self.document.label

    @property
    def reason(self) -> str:
        """Why the unit uploads it, as the unit reads it."""
        return self.why.text


@dataclass(frozen=True)
class ChangeCheck:
    """Change against last year: (last year's count - this year's) / last year's count."""

    last_year: int
    this_year: int
    change: Decimal
    passes: bool


@dataclass(frozen=True)
class RatioCheck:
    """Roster count over the social-insurance payers on all the unit's linked SI codes."""

    people: int
    si_payers: int
    ratio: Decimal | None
    small_unit: bool
    passes: bool


@dataclass(frozen=True)
class UnitCheck:
    people: int
    new_unit: bool
    change: ChangeCheck | None
    ratio: RatioCheck | None
    ratio_required: bool | None
    """Whether the platform will look at the ratio; None when that cannot be told yet."""
    passes: bool | None
    """Whether the platform's roster validation passes; None when the figures are missing."""
    attachments: tuple[Attachment, ...]
    remarks: tuple[Sentence, ...] = field(default=())
    """What the checks found, in the order the unit reads it."""

    @property
    def notes(self) -> tuple[str, ...]:
        """The remarks as the unit reads them."""
        return tuple(r.text for r in self.remarks)

    def as_json(self) -> dict[str, object]:
        """The unit checks as JSON; ``change`` is (last year - this year) / last year, so a
        positive figure is a decrease."""
        change = self.change
        ratio = self.ratio
        return {
            "people": self.people,
            "new_unit": self.new_unit,
            "change": None
            if change is None
            else {
                "last_year": change.last_year,
                "this_year": change.this_year,
                "change": float(change.change),
                "passes": change.passes,
            },
            "si_ratio": None
            if ratio is None
            else {
                "si_payers": ratio.si_payers,
                "ratio": None if ratio.ratio is None else float(ratio.ratio),
                "small_unit": ratio.small_unit,
                "passes": ratio.passes,
            },
            "ratio_required": self.ratio_required,
            "passes": self.passes,
            "attachments": [{"name": a.name, "reason": a.reason} for a in self.attachments],
            "notes": list(self.notes),
        }


def check_change(last_year: int, this_year: int, policy: PolicyYear) -> ChangeCheck:
    """Rule two of the platform's validation: the change against last year within ±10%."""
    change = (Decimal(last_year - this_year) / Decimal(last_year)).quantize(Decimal("0.0001"))
    return ChangeCheck(last_year, this_year, change, abs(change) <= policy.roster.change_tolerance)


def check_ratio(people: int, si_payers: int, policy: PolicyYear) -> RatioCheck:
    """Rule three: roster count / SI payers within 75%..100%, exactly 100% for units of
    10 people or fewer."""
    limits = policy.roster
    small = people <= limits.small_unit_max_people
    if si_payers <= 0:
        return RatioCheck(people, si_payers, None, small, False)
    ratio = (Decimal(people) / Decimal(si_payers)).quantize(Decimal("0.0001"))
    passes = ratio == 1 if small else limits.si_ratio_min <= ratio <= limits.si_ratio_max
    return RatioCheck(people, si_payers, ratio, small, passes)


def check_unit(
    people: int,
    *,
    policy: PolicyYear,
    last_year: int | None = None,
    si_payers: int | None = None,
    new_unit: bool = False,
) -> UnitCheck:
    """The unit-level checks of the platform's roster validation for ``people`` enrolling.

    A renewing unit within ±10% of last year passes; otherwise (and always for a new unit)
    the social-insurance ratio decides. A new unit always uploads the SI declaration form.
    """
    limits = policy.roster
    # The figures every sentence may quote, as the unit reads them.
    figures = {
        "tolerance": percent(limits.change_tolerance),
        "ratio_min": percent(limits.si_ratio_min),
        "ratio_max": percent(limits.si_ratio_max),
        "small_max": limits.small_unit_max_people,
    }
    remarks: list[Sentence] = []
    attachments: list[Attachment] = []

    change: ChangeCheck | None = None
    if new_unit:
        if last_year:
            remarks.append(Sentence.of("rules.unit.new_unit_no_change"))
    elif last_year is not None and last_year > 0:
        change = check_change(last_year, people, policy)
        direction = (
            "decrease" if change.change > 0 else "increase" if change.change < 0 else "flat"
        )
        remarks.append(
            Sentence.of(
                "rules.unit.change",
                last_year=last_year,
                people=people,
                direction=direction,
                change=percent(abs(change.change)),
                passes=change.passes,
                **figures,
            )
        )
    elif last_year == 0:
        remarks.append(Sentence.of("rules.unit.no_last_year_count"))

    ratio_required: bool | None
    if new_unit or last_year == 0:
        ratio_required = True
    elif change is not None:
        ratio_required = not change.passes
    else:
        ratio_required = None

    ratio = check_ratio(people, si_payers, policy) if si_payers is not None else None
    shown = None if ratio is None or ratio.ratio is None else percent(ratio.ratio)
    if ratio is not None:
        remarks.append(
            Sentence.of(
                "rules.unit.ratio",
                people=people,
                si_payers=si_payers,
                ratio=shown,
                small=ratio.small_unit,
                passes=ratio.passes,
                for_reference=ratio_required is False,
                **figures,
            )
        )
    if ratio_required is None:
        remarks.append(Sentence.of("rules.unit.change_unknown", **figures))
    elif ratio_required and ratio is None:
        remarks.append(Sentence.of("rules.unit.ratio_needed"))

    passes: bool | None
    if change is not None and change.passes:
        passes = True
    elif ratio_required and ratio is not None:
        passes = ratio.passes
    else:
        passes = None

    if new_unit:
        attachments.append(
            Attachment(Document.SI_DECLARATION, Sentence.of("rules.unit.si_declaration_reason"))
        )
    # With last year's count unknown, a failing ratio matters only if the change turns out
    # to exceed the tolerance: the statement is then needed, and said so.
    if ratio_required is not False and ratio is not None and not ratio.passes:
        if not new_unit:
            attachments.append(
                Attachment(
                    Document.SEALED_STATEMENT,
                    Sentence.of(
                        "rules.unit.statement_reason",
                        ratio=shown,
                        small=ratio.small_unit,
                        conditional=ratio_required is None,
                        **figures,
                    ),
                    conditional=ratio_required is None,
                )
            )
        attachments.extend(
            Attachment(
                document,
                Sentence.of(
                    "rules.unit.supporting_reason",
                    situation=Sentence(f"rules.situation.{document}"),
                ),
                conditional=True,
            )
            for document in SUPPORTING_DOCUMENTS
        )
    if attachments:
        remarks.append(
            Sentence.of("rules.unit.review", days=policy.review_working_days.attachments)
        )
    return UnitCheck(
        people=people,
        new_unit=new_unit,
        change=change,
        ratio=ratio,
        ratio_required=ratio_required,
        passes=passes,
        attachments=tuple(attachments),
        remarks=tuple(remarks),
    )
