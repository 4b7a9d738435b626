"""Answering a question: match, render the answer or the clarifying choices, record misses."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from faq.kb import KnowledgeBase
from faq.match import MAX_QUESTION_CHARS, Matcher, MatchResult, Status, Suggestion, Thresholds
from faq.normalize import normalize
from rules.catalog import render
from rules.context import build_context
from rules.policy import PolicyYear, latest_policy_year, policy_years


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
    _years: dict[int, tuple[PolicyYear, KnowledgeBase]] = field(
        default_factory=dict, init=False, repr=False
    )

    @cached_property
    def matcher(self) -> Matcher:
        return Matcher(self.kb, self.thresholds)

    def _kb(self, policy: PolicyYear | None) -> KnowledgeBase:
        """The knowledge base with ``policy``'s figures (None: the newest year's)."""
        # The newest year now, not when the knowledge base was loaded: years are installed
        # by the operators and may change after it.
        policy = policy or latest_policy_year()
        # Keyed by identity: a policy year is an unhashable model, installed once and kept.
        held = self._years.get(id(policy))
        if held is None or held[0] is not policy:
            kb = replace(self.kb, context=build_context(policy))
            held = self._years[id(policy)] = (policy, kb)
        return held[1]

    def _say(self, name: str, policy: PolicyYear | None = None, **extra: Any) -> str:
        return render(name, self._kb(policy).context, **extra)

    def ask(
        self,
        question: str,
        intents: bool = False,
        can_reply: bool = True,
        policy: PolicyYear | None = None,
    ) -> Answer:
        """The answer, a clarifying choice, or the hotline fallback. Channels record misses.

        Questions the knowledge base must not answer as if it knew (another agency's
        business, a year without data) are told so before any matching. Where nobody can
        reply (``can_reply=False``: a one-off question from the command line), an unsure
        match lists the questions it may have meant without asking to pick one. Figures are
        ``policy``'s: the year of the date the question is asked on (None: the newest)."""
        declined = self.decline(question, policy)
        if declined is not None:
            return declined
        return self._answer(self.matcher.match(question, intents=intents), can_reply, policy)

    def decline(self, question: str, policy: PolicyYear | None = None) -> Answer | None:
        """The "not here" answer to a question, told before any matching, or None."""
        text = unicodedata.normalize("NFKC", question)
        if (place := self.kb.elsewhere_for(normalize(question[:MAX_QUESTION_CHARS]))) is not None:
            said = self._say("elsewhere", policy, topic=place.topic, place=place.place)
            return Answer("fallback", None, 0.0, said, (), place=place.place)
        if (year := _unknown_year(text)) is not None:
            return Answer("fallback", None, 0.0, self._say("unknown_year", policy, asked=year), ())
        return None

    def answer_entry(self, entry_id: str, policy: PolicyYear | None = None) -> Answer:
        """The answer of a chosen entry (a clarify choice or a related-question button)."""
        entry = self.kb.by_id[entry_id]
        return self._answer(MatchResult("answer", entry, 1.0, ()), policy=policy)

    def _answer(
        self, result: MatchResult, can_reply: bool = True, policy: PolicyYear | None = None
    ) -> Answer:
        if result.status == "answer" and result.entry is not None and result.entry.flow:
            entry = result.entry
            text = self._say("intent", policy, label=entry.question)
            return Answer("answer", entry.id, result.score, text, (), text, intent=entry.flow)
        if result.status == "answer" and result.entry is not None:
            entry = result.entry
            related = tuple(
                Suggestion(r, self.kb.by_id[r].question, 0.0)
                for r in entry.related
                if r in self.kb.by_id
            )
            body = text = self._kb(policy).rendered[entry.id]
            if related:
                questions = [s.question for s in related]
                text += "\n\n" + self._say("related", policy, questions=questions)
            return Answer("answer", entry.id, result.score, text, related, body)
        if result.status == "clarify":
            message = "clarify" if can_reply else "possibilities"
            text = self._say(message, policy, suggestions=result.suggestions)
            body = self._say("clarify_choices", policy) if can_reply else text
            return Answer("clarify", None, result.score, text, result.suggestions, body)
        return Answer("fallback", None, result.score, self._say("fallback", policy), ())


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
