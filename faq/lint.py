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
            kb.render(entry)
        except Exception as exc:  # a template error of any kind is a lint finding
            problems.append(LintProblem(entry.id, "template_error", str(exc)))
    business = list(kb.business)
    for a, b in itertools.combinations(business, 2):
        if fuzz.ratio(normalize(a.question), normalize(b.question)) >= NEAR_IDENTICAL:
            problems.append(LintProblem(
                a.id, "near_identical_question", f"{a.question!r} ~ {b.id}: {b.question!r}"
            ))  # fmt: skip
    return problems
