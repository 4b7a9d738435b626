"""Checks that keep the knowledge base answerable and its figures tied to the rules data.

``lint`` lists every problem of the entries at once (few alternates, an alternate that
retrieves another entry, a figure typed by hand, a note about the handbook's gaps, a bare
yes/no that a phrasing does not ask, near-identical questions). The words and patterns the
checks look for are data, in the ``lint`` part of ``faq/lexicon.yaml``, read on first use."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz import fuzz

from faq.kb import KnowledgeBase
from faq.match import Matcher
from faq.normalize import lexicon, normalize

MIN_ALTERNATES = 4
NEAR_IDENTICAL = 90.0
_TEMPLATE_PARTS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class LintProblem:
    entry: str
    code: str
    message: str


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


@dataclass(frozen=True)
class _Words:
    """What the checks look for, from the ``lint`` part of ``faq/lexicon.yaml``."""

    internal_note: re.Pattern[str]
    """Notes written for ourselves about what the handbook lacks."""
    verdict: re.Pattern[str]
    """A bare yes or no opening an answer."""
    cues: dict[str, re.Pattern[str]]
    """For each opening verdict: what a phrasing asked in its terms holds."""
    yes_no_question: re.Pattern[str]
    figure_forms: dict[str, tuple[str, ...]]
    """By kind of figure, what a writer types after the number."""


@cache
def _words() -> _Words:
    words = lexicon()["lint"]
    verdicts = {str(k): str(v) for k, v in words["verdicts"].items()}
    return _Words(
        internal_note=re.compile("|".join(map(str, words["internal_notes"]))),
        verdict=re.compile(f"^({'|'.join(map(re.escape, verdicts))}){words['verdict_end']}"),
        cues={verdict: re.compile(cue) for verdict, cue in verdicts.items()},
        yes_no_question=re.compile(str(words["yes_no_question"])),
        figure_forms={str(k): tuple(map(str, v)) for k, v in words["figure_forms"].items()},
    )


def internal_notes(text: str) -> list[str]:
    """Phrases of an answer that speak of the handbook's gaps instead of the next step."""
    return [m.group(0) for m in _words().internal_note.finditer(text)]


def verdict_mismatches(answer: str, phrasings: tuple[str, ...]) -> list[str]:
    """Yes/no phrasings an answer's bare opening verdict does not answer in their terms."""
    words = _words()
    verdict = words.verdict.match(answer)
    if verdict is None:
        return []
    cue = words.cues[verdict.group(1)]
    return [q for q in phrasings if words.yes_no_question.search(q) and not cue.search(q)]


_DATE = re.compile(r"\d{4}年(\d{1,2}月\d{1,2}日)")
_MONEY_KEYS = {"price", "half_price", "trio_total", "trio_discounted", "trio_discount"}


def _figure_kind(key: str) -> str:
    """The kind of figure a context key holds, as ``figure_forms`` in the lexicon names it."""
    if key in _MONEY_KEYS:
        return "money"
    if key.endswith("_days") or key.startswith("waiting_"):
        return "days"
    if key.startswith("age_"):
        return "age"
    if key in {"max_rows", "small_unit_max"}:
        return "count"
    return "number"


def data_figures(context: dict[str, Any]) -> set[str]:
    """Figures the rules data holds, in the forms a writer would type them by hand."""
    figures: set[str] = set()
    forms = _words().figure_forms
    for key, value in context.items():
        if key == "plans":
            continue
        for text in _strings(value):
            if date := _DATE.fullmatch(text):
                figures.update({text, date.group(1)})  # also 6月1日 typed without the year
            else:
                figures.update(text + form for form in forms.get(_figure_kind(key), ("",)))
    return {f for f in figures if len(f) >= 3}


def lint(kb: KnowledgeBase, matcher: Matcher | None = None) -> list[LintProblem]:
    """Every problem, so one run shows the whole list."""
    problems: list[LintProblem] = []
    ids = set(kb.by_id)
    matcher = matcher or Matcher(kb)
    figures = sorted(data_figures(dict(kb.context)), key=len, reverse=True)
    for entry in kb.business:
        if len(set(entry.alternates)) < MIN_ALTERNATES:
            problems.append(LintProblem(
                entry.id, "few_alternates",
                f"needs at least {MIN_ALTERNATES} distinct alternates, has "
                f"{len(set(entry.alternates))}",
            ))  # fmt: skip
        if not entry.source.strip():
            problems.append(LintProblem(entry.id, "missing_source", "no handbook section"))
        for rid in entry.related:
            if rid not in ids or rid == entry.id:
                problems.append(LintProblem(entry.id, "bad_related", f"related {rid!r}"))
        for alternate in entry.alternates:
            ranked = matcher.rank(alternate, limit=1)
            if not ranked or ranked[0][0].id != entry.id:
                winner = ranked[0][0].id if ranked else None
                problems.append(LintProblem(
                    entry.id, "alternate_retrieves_other",
                    f"{alternate!r} retrieves {winner}",
                ))  # fmt: skip
        literal = _TEMPLATE_PARTS.sub(" ", entry.answer)
        for figure in figures:
            if figure in literal:
                problems.append(LintProblem(
                    entry.id, "hand_written_figure",
                    f"{figure!r} is in the rules data: use the template variable",
                ))  # fmt: skip
                literal = literal.replace(figure, " ")
        try:
            rendered = kb.render(entry)
        except Exception as exc:  # a template error of any kind is a lint finding
            problems.append(LintProblem(entry.id, "template_error", str(exc)))
            continue
        for note in internal_notes(rendered):
            problems.append(LintProblem(
                entry.id, "internal_note",
                f"{note!r} speaks of the handbook: say what the handler should do instead",
            ))  # fmt: skip
        for question in verdict_mismatches(rendered, entry.phrasings):
            problems.append(LintProblem(
                entry.id, "verdict_form",
                f"the answer opens with a bare yes/no that {question!r} does not ask: "
                "lead with a statement that answers every phrasing",
            ))  # fmt: skip
    business = list(kb.business)
    for a, b in itertools.combinations(business, 2):
        if fuzz.ratio(normalize(a.question), normalize(b.question)) >= NEAR_IDENTICAL:
            problems.append(LintProblem(
                a.id, "near_identical_question", f"{a.question!r} ~ {b.id}: {b.question!r}"
            ))  # fmt: skip
    return problems
