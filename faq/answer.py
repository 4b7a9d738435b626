"""Answering a question: match, render the answer or the clarifying choices, record misses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import jinja2
import yaml

from faq.kb import KnowledgeBase, load_kb
from faq.match import Matcher, MatchResult, Status, Suggestion, Thresholds

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@dataclass(frozen=True)
class Answer:
    """What the user sees, and enough structure for buttons and the hotline's JSON."""

    status: Status
    entry: str | None
    score: float
    text: str
    suggestions: tuple[Suggestion, ...]
    body: str = ""
    """The answer without the related-questions line, for channels that show them as buttons."""

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "entry": self.entry,
            "score": round(self.score, 3),
            "answer": self.text,
            "suggestions": [{"entry": s.entry, "question": s.question} for s in self.suggestions],
        }


@dataclass
class FaqService:
    kb: KnowledgeBase
    thresholds: Thresholds | None = None

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.kb, self.thresholds)

    @cached_property
    def _messages(self) -> dict[str, jinja2.Template]:
        text = resources.files("faq").joinpath("messages.yaml").read_text(encoding="utf-8")
        return {k: _ENV.from_string(v) for k, v in yaml.safe_load(text).items()}

    def _say(self, name: str, **extra: Any) -> str:
        return self._messages[name].render(**self.kb.context, **extra).strip()

    def ask(self, question: str) -> Answer:
        """The answer, a clarifying choice, or the hotline fallback. Channels record misses."""
        return self._answer(self.matcher.match(question))

    def answer_entry(self, entry_id: str) -> Answer:
        """The answer of a chosen entry (a clarify choice or a related-question button)."""
        entry = self.kb.by_id[entry_id]
        return self._answer(MatchResult("answer", entry, 1.0, ()))

    def _answer(self, result: MatchResult) -> Answer:
        if result.status == "answer" and result.entry is not None:
            entry = result.entry
            related = tuple(
                Suggestion(r, self.kb.by_id[r].question, 0.0)
                for r in entry.related
                if r in self.kb.by_id
            )
            body = text = self.kb.rendered[entry.id]
            if related:
                questions = [s.question for s in related]
                text += "\n\n" + self._say("related", questions=questions)
            return Answer("answer", entry.id, result.score, text, related, body)
        if result.status == "clarify":
            text = self._say("clarify", suggestions=result.suggestions)
            return Answer("clarify", None, result.score, text, result.suggestions)
        return Answer("fallback", None, result.score, self._say("fallback"), ())


def default_service() -> FaqService:
    return FaqService(load_kb())
