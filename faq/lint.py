"""Checks that keep the knowledge base answerable and its figures tied to the rules data."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from faq.kb import KnowledgeBase
from faq.match import Matcher
from faq.normalize import normalize

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


# Notes written for ourselves about what the handbook lacks; a handler is told what to do.
_INTERNAL_NOTE = re.compile(
    r"手册(?:未|没有?|并未|中未|里没有?)|未作说明|另作说明|另外说明|未写明|没有写明|未直接说明"
    r"|手册对[^。；]{0,30}(?:没有|未)"
)
# An answer that opens with a bare yes or no ("不能。") answers only questions asked in
# that form: 有没有 wants 有/没有, 能不能 wants 能/不能 or 可以. Where the phrasings ask
# in different forms (or the verdict holds only under a condition), lead with a statement.
_VERDICT = re.compile(
    r"^(没有|有|不能|能|不可以|可以|不行|行|不需要|需要|不要|要|不用|不是|是)[。，！,]"
)
_VERDICT_CUES = {
    "有": "有", "没有": "有",
    "能": "能|可以|可否|可不可|行", "不能": "能|可以|可否|可不可|行",
    "可以": "能|可以|可否|可不可|行", "不可以": "能|可以|可否|可不可|行",
    "行": "能|可以|行", "不行": "能|可以|行",
    "要": "要|需|用|得|必须", "不要": "要|需|用|得|必须", "需要": "要|需|用|得|必须",
    "不需要": "要|需|用|得|必须", "不用": "要|需|用|得|必须",
    "是": "是", "不是": "是",
}  # fmt: skip
_YES_NO_QUESTION = re.compile(r"(?:吗|(?<![什怎这那多])么)[？?]?$|(.)不\1|有没有|是否|可否|能否")


def internal_notes(text: str) -> list[str]:
    """Phrases of an answer that speak of the handbook's gaps instead of the next step."""
    return [m.group(0) for m in _INTERNAL_NOTE.finditer(text)]


def verdict_mismatches(answer: str, phrasings: tuple[str, ...]) -> list[str]:
    """Yes/no phrasings an answer's bare opening verdict does not answer in their terms."""
    verdict = _VERDICT.match(answer)
    if verdict is None:
        return []
    cue = re.compile(_VERDICT_CUES[verdict.group(1)])
    return [q for q in phrasings if _YES_NO_QUESTION.search(q) and not cue.search(q)]


_DATE = re.compile(r"\d{4}年(\d{1,2}月\d{1,2}日)")
_MONEY_KEYS = {"price", "half_price", "trio_total", "trio_discounted", "trio_discount"}


def data_figures(context: dict[str, Any]) -> set[str]:
    """Figures the rules data holds, in the forms a writer would type them by hand."""
    figures: set[str] = set()
    for key, value in context.items():
        if key == "plans":
            continue
        for text in _strings(value):
            if date := _DATE.fullmatch(text):
                figures.update({text, date.group(1)})  # also 6月1日 typed without the year
            elif key in _MONEY_KEYS:
                figures.add(f"{text}元")
            elif key.endswith("_days") or key.startswith("waiting_"):
                figures.update({f"{text}天", f"{text}个工作日"})
            elif key.startswith("age_"):
                figures.add(f"{text}周岁")
            elif key in {"max_rows", "small_unit_max"}:
                figures.update({text, f"{text}人"})
            else:
                figures.add(text)
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
