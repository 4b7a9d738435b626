"""Answer matching for short Chinese questions.

Each phrasing of each entry (canonical question and alternates) is a document. A question
is normalized, its jargon mapped to canonical terms, question scaffolding dropped, and
compared by TF-IDF cosine over character unigrams and bigrams (Chinese needs no word
segmentation for this), blended with a rapidfuzz edit-distance ratio against the best
phrasings. An entry scores as its best phrasing. Three outcomes by calibrated thresholds:
answer, clarify (offer up to three questions), fallback (hand over to the hotline).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Literal

from rapidfuzz import fuzz

from faq.kb import Entry, KnowledgeBase
from faq.normalize import Canonicalizer, normalize

Status = Literal["answer", "clarify", "fallback"]

MAX_QUESTION_CHARS = 300
"""Longer text is cut: a question is short, and matching must stay fast on 5 MB pastes."""

_ASCII_TOKEN = re.compile(r"[a-z0-9@.%]+")


def content(text: str, canonicalize: Canonicalizer, scaffolding: re.Pattern[str]) -> str:
    """The topical part of a question: normalized, canonical jargon, no scaffolding."""
    canon = canonicalize(normalize(text[:MAX_QUESTION_CHARS]))
    stripped = scaffolding.sub(" ", canon)
    return " ".join(stripped.split()) or canon


def grams(text: str) -> Counter[str]:
    """Character unigrams and bigrams of Chinese runs; ASCII runs (a0, chrome) whole."""
    out: Counter[str] = Counter()
    for chunk in text.split():
        pieces = _ASCII_TOKEN.split(chunk)
        out.update(_ASCII_TOKEN.findall(chunk))
        for run in pieces:
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


@dataclass(frozen=True)
class Thresholds:
    """Calibrated with benchmarks/calibrate_faq.py on the tune split (tests/data/faq_tune.jsonl,
    289 in-scope; faq_oos_tune.jsonl, 62 out-of-scope): the most answered-and-right with at
    most 3% answered-but-wrong, 95% of out-of-scope declined, at least 85% of them declined
    by these thresholds alone (as if no elsewhere pattern caught them), and ``sure`` at 0.60
    or more so that one-word questions ("保障", "多少钱") are not answered outright."""

    answer: float = 0.42
    margin: float = 0.0
    sure: float = 0.60
    clarify: float = 0.33
    smalltalk: float = 0.80
    intent: float = 0.60
    intent_lead: float = 0.15
    """A request to start a flow is acted on when this sure, or above ``answer`` with this
    lead over the best knowledge-base entry; otherwise it is offered as a choice (starting a
    flow on a misread message costs the user more than a wrong answer)."""
    margin_slope: float = 0.4
    """How much more lead over the second entry a score needs for each point it is
    below ``sure``: the needed margin grows from ``margin`` at ``sure`` as the score falls."""

    def decide(self, score: float, second: float) -> Status:
        """Answer, clarify or fall back for a best score and the runner-up's score."""
        if score < self.clarify:
            return "fallback"
        if score >= self.sure:
            return "answer"
        needed = self.margin + self.margin_slope * (self.sure - score)
        if score >= self.answer and score - second >= needed:
            return "answer"
        return "clarify"


@dataclass(frozen=True)
class Suggestion:
    entry: str
    question: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    status: Status
    entry: Entry | None
    score: float
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class _Doc:
    entry: Entry
    text: str
    weights: dict[str, float]
    norm: float


class Matcher:
    """Ranks knowledge-base entries for a question; deterministic and offline."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self._canonicalize = Canonicalizer(kb.synonyms)
        self._scaffolding = re.compile("|".join(map(re.escape, kb.scaffolding)) or "$^")
        business = [
            (e, p) for e in kb.entries if e.kind in ("business", "intent") for p in e.phrasings
        ]
        texts = [self._content(p) for _, p in business]
        bags = [grams(t) for t in texts]
        df: Counter[str] = Counter(g for bag in bags for g in bag)
        n = len(bags)
        self._idf = {g: math.log((n + 1) / (c + 1)) + 1.0 for g, c in df.items()}
        self._default_idf = math.log(n + 1) + 1.0
        self._docs: list[_Doc] = []
        # Weights divided by the phrasing's norm, so a dot product is already a cosine
        # numerator; intents apart, so questions from the hotline's tools never meet them.
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._intent_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for (entry, _), text, bag in zip(business, texts, bags, strict=True):
            weights = self._weigh(bag)
            index = len(self._docs)
            norm = _norm(weights)
            self._docs.append(_Doc(entry, text, weights, norm))
            postings = self._intent_postings if entry.kind == "intent" else self._postings
            for g, w in weights.items():
                postings[g].append((index, w / norm))
        self._smalltalk = [
            (e, normalize(p)) for e in kb.entries if e.kind == "smalltalk" for p in e.phrasings
        ]

    def _content(self, text: str) -> str:
        return content(text, self._canonicalize, self._scaffolding)

    def _weigh(self, bag: Counter[str]) -> dict[str, float]:
        return {
            g: (1.0 + math.log(c)) * self._idf.get(g, self._default_idf) for g, c in bag.items()
        }

    def rank(self, text: str, limit: int = 5, intents: bool = False) -> list[tuple[Entry, float]]:
        """Best entries for ``text`` with blended scores in [0, 1], best first; requests to
        start a flow (intents) only when ``intents``."""
        query = self._content(text)
        weights = self._weigh(grams(query))
        qnorm = _norm(weights)
        if not qnorm:
            return []
        dots: defaultdict[int, float] = defaultdict(float)
        indexes = (self._postings, self._intent_postings) if intents else (self._postings,)
        for postings in indexes:
            for g, w in weights.items():
                for index, dw in postings.get(g, ()):
                    dots[index] += w * dw
        best: dict[str, tuple[Entry, float]] = {}
        for index, dot in heapq.nlargest(40, dots.items(), key=itemgetter(1)):
            doc = self._docs[index]
            cosine = dot / qnorm
            edit = fuzz.ratio(query, doc.text) / 100.0
            score = 0.75 * cosine + 0.25 * edit
            if doc.entry.id not in best or score > best[doc.entry.id][1]:
                best[doc.entry.id] = (doc.entry, score)
        return sorted(best.values(), key=lambda es: -es[1])[:limit]

    def match(self, text: str, intents: bool = False) -> MatchResult:
        """Answer, clarify or fall back, by the calibrated thresholds. Intents compete only
        when asked for (in chat; the hotline's tools answer questions)."""
        t = self.thresholds
        ranked = self.rank(text, intents=intents)
        top_score = ranked[0][1] if ranked else 0.0
        if top_score < t.clarify:
            talk = self._smalltalk_match(text)
            if talk is not None:
                return MatchResult("answer", talk, 1.0, ())
        if not ranked:
            return MatchResult("fallback", None, top_score, ())
        top, score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        status = t.decide(score, second)
        if top.kind == "intent" and status != "fallback":
            entry_score = next((x for e, x in ranked[1:] if e.kind != "intent"), 0.0)
            sure = score >= t.intent or (
                score >= t.answer and score - entry_score >= t.intent_lead
            )
            status = "answer" if sure else "clarify"
        if status == "answer":
            return MatchResult("answer", top, score, _suggest(ranked[1:4]))
        if status == "clarify":
            return MatchResult("clarify", None, score, _suggest(ranked[:3]))
        return MatchResult("fallback", None, score, ())

    def smalltalk(self, text: str) -> Entry | None:
        """The small-talk entry ``text`` is a near-exact wording of, if any."""
        return self._smalltalk_match(text)

    def _smalltalk_match(self, text: str) -> Entry | None:
        query = normalize(text[:MAX_QUESTION_CHARS])
        if not query or len(query) > 20:
            return None
        best: tuple[Entry | None, float] = (None, 0.0)
        for entry, phrasing in self._smalltalk:
            score = fuzz.ratio(query, phrasing) / 100.0
            if score > best[1]:
                best = (entry, score)
        return best[0] if best[1] >= self.thresholds.smalltalk else None


def _norm(weights: dict[str, float]) -> float:
    return math.sqrt(sum(w * w for w in weights.values()))


def _suggest(ranked: Iterable[tuple[Entry, float]]) -> tuple[Suggestion, ...]:
    return tuple(Suggestion(e.id, e.question, round(s, 3)) for e, s in ranked)
