"""Measure answers on a question set in the format of ../shared/eval."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faq.answer import Answer, FaqService


@dataclass(frozen=True)
class Case:
    question: str
    expect: tuple[tuple[str, ...], ...]


def read_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item: dict[str, Any] = json.loads(line)
            groups = tuple(tuple(g) for g in item.get("expect", []))
            cases.append(Case(item["q"], groups))
    return cases


def is_correct(answer: Answer, case: Case) -> bool:
    """An answer counts when it answers and carries one phrase of every expected group."""
    return answer.status == "answer" and all(
        any(p.lower() in answer.text.lower() for p in group) for group in case.expect
    )


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    oos_total: int = 0
    oos_unanswered: int = 0
    failures: list[tuple[Case, Answer]] = field(default_factory=list)
    oos_failures: list[tuple[str, Answer]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def oos_rate(self) -> float:
        return self.oos_unanswered / self.oos_total if self.oos_total else 0.0


def evaluate(service: FaqService, cases: Iterable[Case], oos: Iterable[Case] = ()) -> Report:
    report = Report()
    for case in cases:
        answer = service.ask(case.question)
        report.total += 1
        if is_correct(answer, case):
            report.correct += 1
        else:
            report.failures.append((case, answer))
    for case in oos:
        answer = service.ask(case.question)
        report.oos_total += 1
        if answer.status != "answer":
            report.oos_unanswered += 1
        else:
            report.oos_failures.append((case.question, answer))
    return report
