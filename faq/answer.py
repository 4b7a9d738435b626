"""Answering a question: match, render the answer or the clarifying choices, record misses."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from faq.kb import KnowledgeBase
from faq.match import MAX_QUESTION_CHARS, Matcher, MatchResult, Status, Suggestion, Thresholds
from faq.normalize import normalize
from rules.catalog import render
from rules.policy import policy_years


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
    intent: str | None = None
    """A request to do something: the guided flow that does it (chat channels start it)."""
    place: str | None = None
    """Another agency's business: where to ask instead (the text says so too)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "entry": self.entry,
            "score": round(self.score, 3),
            "answer": self.text,
            "suggestions": [{"entry": s.entry, "question": s.question} for s in self.suggestions],
            **({"place": self.place} if self.place else {}),
        }


@dataclass
class FaqService:
    kb: KnowledgeBase
    thresholds: Thresholds | None = None

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.kb, self.thresholds)

    def _say(self, name: str, **extra: Any) -> str:
        return render(name, self.kb.context, **extra)

    def ask(self, question: str, intents: bool = False, can_reply: bool = True) -> Answer:
        """The answer, a clarifying choice, or the hotline fallback. Channels record misses.

        Questions the knowledge base must not answer as if it knew (another agency's
        business, a year without data) are told so before any matching. Where nobody can
        reply (``can_reply=False``: a one-off question from the command line), an unsure
        match lists the questions it may have meant without asking to pick one."""
        declined = self.decline(question)
        if declined is not None:
            return declined
        return self._answer(self.matcher.match(question, intents=intents), can_reply)

    def decline(self, question: str) -> Answer | None:
        """The "not here" answer to a question, told before any matching, or None."""
        text = unicodedata.normalize("NFKC", question)
        if (place := self.kb.elsewhere_for(normalize(question[:MAX_QUESTION_CHARS]))) is not None:
            said = self._say("elsewhere", topic=place.topic, place=place.place)
            return Answer("fallback", None, 0.0, said, (), place=place.place)
        if (year := _unknown_year(text)) is not None:
            return Answer("fallback", None, 0.0, self._say("unknown_year", asked=year), ())
        return None

    def answer_entry(self, entry_id: str) -> Answer:
        """The answer of a chosen entry (a clarify choice or a related-question button)."""
        entry = self.kb.by_id[entry_id]
        return self._answer(MatchResult("answer", entry, 1.0, ()))

    def _answer(self, result: MatchResult, can_reply: bool = True) -> Answer:
        if result.status == "answer" and result.entry is not None and result.entry.flow:
            entry = result.entry
            text = self._say("intent", label=entry.question)
            return Answer("answer", entry.id, result.score, text, (), text, intent=entry.flow)
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
            message = "clarify" if can_reply else "possibilities"
            text = self._say(message, suggestions=result.suggestions)
            body = self._say("clarify_choices") if can_reply else text
            return Answer("clarify", None, result.score, text, result.suggestions, body)
        return Answer("fallback", None, result.score, self._say("fallback"), ())


_YEAR = re.compile(r"(20\d{2})\s*年")
_FIGURES = re.compile(r"保费|价格|标准|多少钱|缴费|费用|什么时候|几月|时间|开始|截止|起保|规则")


def _unknown_year(text: str) -> int | None:
    """A year the policy data does not cover, asked about its figures or dates."""
    if not _FIGURES.search(text):
        return None
    known = {
        day.year
        for y in policy_years()
        for day in (y.coverage.start, y.coverage.end, y.windows.centralized.open)
    }
    for match in _YEAR.finditer(text):
        if int(match.group(1)) not in known:
            return int(match.group(1))
    return None
