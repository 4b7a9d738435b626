"""The storage port: durable conversations, processed in turns.

A turn is one incoming message. ``Storage.turn`` opens it: it serializes turns of one
conversation (also across processes sharing a database), refuses a message id it has
already processed, loads the conversation state, and on a clean exit saves the state, the
transcript lines, the counters and the people claims in one transaction. An exception
inside the turn rolls everything back, so a crash mid-turn loses nothing already confirmed
and the redelivered message is processed again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from faq.misses import Miss
from flows.keys import SHANGHAI as SHANGHAI  # re-exported: importers find them here
from flows.keys import ConversationKey as ConversationKey
from flows.outbox import MemoryOutbox, Outbox
from flows.staff import MemoryStaffStore, StaffStore
from rules.privacy import mask_personal_data

Role = Literal["user", "bot"]
Outcome = Literal["answer", "clarify", "fallback", "flow", "enroll_start", "enroll_done"]


@dataclass(frozen=True)
class DayFigures:
    """What one Shanghai day saw, for the hotline's console. Nothing personal: these outlive
    /forget."""

    day: dt.date
    conversations: int = 0
    """Conversations with at least one turn that day."""
    turns: int = 0
    answers: int = 0
    clarifications: int = 0
    fallbacks: int = 0
    """Questions handed over to the hotline (no answer found)."""
    enrollments_started: int = 0
    enrollments_finished: int = 0


@dataclass
class ConversationState:
    """Everything a conversation remembers between turns. JSON-serializable."""

    flow: str | None = None
    step: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    back: list[dict[str, Any]] = field(default_factory=list)
    """Snapshots (step and slots) taken before each step, for /back."""
    misses: int = 0
    """Consecutive invalid answers to the pending step."""
    choices: list[dict[str, str]] = field(default_factory=list)
    """The choices last offered ({"label", "value"}), so typing their number picks one."""
    parked: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resumable flows left unfinished ({"step", "slots", "back"} by flow name): leaving an
    enrollment for the menu or a question keeps the draft until it is resumed or erased."""
    done: str | None = None
    """The flow that last finished with a result; its slots are kept for follow-ups that
    change one value ("那10个人呢")."""

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "slots": self.slots,
            "back": self.back,
            "misses": self.misses,
            "choices": self.choices,
            "parked": self.parked,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        data = data or {}
        return cls(
            flow=data.get("flow"),
            step=data.get("step"),
            slots=dict(data.get("slots") or {}),
            back=list(data.get("back") or []),
            misses=int(data.get("misses") or 0),
            choices=list(data.get("choices") or []),
            parked=dict(data.get("parked") or {}),
            done=data.get("done"),
        )


@dataclass(frozen=True)
class TranscriptLine:
    at: dt.datetime
    role: Role
    text: str
    """Already masked: no full ID or mobile number is ever stored."""


@dataclass(frozen=True)
class PersonClaim:
    """An ID number held by a unit's enrollment draft in a policy year."""

    id_hash: str
    masked_id: str


def id_hash(number: str, key: bytes) -> str:
    """Keyed hash of an ID number: finds duplicates without storing the number."""
    return hmac.new(key, number.encode("utf-8"), hashlib.sha256).hexdigest()


def utcnow() -> dt.datetime:
    """When a turn is saved, by the figures' clock (one function, so a test can set it)."""
    return dt.datetime.now(dt.UTC)


ConflictFinder = Callable[[int, list[str]], Awaitable[list[tuple[str, str]]]]


class Turn:
    """One message being processed. Mutate ``state``; record lines, outcomes, claims."""

    def __init__(
        self,
        key: ConversationKey,
        state: ConversationState,
        duplicate: bool,
        finder: ConflictFinder,
    ) -> None:
        self.key = key
        self.state = state
        self.duplicate = duplicate
        self._finder = finder
        self.lines: list[TranscriptLine] = []
        self.outcomes: list[Outcome] = []
        self.misses: list[Miss] = []
        self.claims: tuple[int, str, tuple[PersonClaim, ...]] | None = None
        """(policy year, unit name, people) to replace this conversation's claims with."""

    async def find_conflicts(self, policy_year: int, hashes: list[str]) -> list[tuple[str, str]]:
        """(id hash, other unit name) for hashes another conversation's draft holds in
        ``policy_year``, read in this turn's transaction."""
        return await self._finder(policy_year, hashes)

    def log(self, role: Role, text: str, at: dt.datetime) -> None:
        self.lines.append(TranscriptLine(at, role, mask_personal_data(text)[:4000]))

    def count(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def miss(self, question: str, at: dt.datetime) -> None:
        self.misses.append(Miss(mask_personal_data(question.strip())[:500], at))


class Storage(ABC):
    """Where conversations live. One contract, tested against every backend."""

    @abstractmethod
    def turn(
        self, key: ConversationKey, message_id: str | None
    ) -> AbstractAsyncContextManager[Turn]:
        """Open a turn; see the module docstring for the guarantees."""

    @abstractmethod
    async def transcript(self, key: ConversationKey) -> list[TranscriptLine]: ...

    @abstractmethod
    async def forget_user(self, channel: str, user_id: str) -> int:
        """Erase every conversation, transcript, draft, claim and miss of a user; count the
        conversations."""

    @abstractmethod
    async def misses(self, since: dt.date | None = None) -> list[Miss]:
        """Questions nobody could answer (masked), oldest first; a user's go with /forget."""

    @abstractmethod
    async def stats(self) -> dict[str, int]:
        """conversations, turns, answers, clarifications, fallbacks."""

    @abstractmethod
    async def offered(self, key: ConversationKey) -> list[dict[str, str]]:
        """The choices last offered in the conversation ({"label", "value"}), read without
        opening a turn: a page shown again after a reload shows its buttons again."""

    @abstractmethod
    async def figures(self, first: dt.date, last: dt.date) -> list[DayFigures]:
        """One ``DayFigures`` per Shanghai day from ``first`` to ``last`` (inclusive), days
        without turns included as zeros."""

    outbox: Outbox
    """Files sent, for channels that hand out download links (set by each backend)."""
    staff: StaffStore
    """The console's accounts, sessions and failed logins (set by each backend)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class MemoryStorage(Storage):
    """In-process storage for tests and benchmarks; same contract, no durability."""

    def __init__(self) -> None:
        self._states: dict[ConversationKey, dict[str, Any]] = {}
        self._seen: set[tuple[ConversationKey, str]] = set()
        self._lines: dict[ConversationKey, list[TranscriptLine]] = {}
        self._claims: dict[ConversationKey, tuple[int, str, tuple[PersonClaim, ...]]] = {}
        self._misses: list[tuple[ConversationKey, Miss]] = []
        self._counts: dict[str, int] = {}
        self._locks: dict[ConversationKey, asyncio.Lock] = {}
        self._outcomes: list[tuple[dt.datetime, ConversationKey, tuple[Outcome, ...]]] = []
        self._outbox = MemoryOutbox()
        self.outbox = self._outbox
        self.staff = MemoryStaffStore()

    @asynccontextmanager
    async def _turn(self, key: ConversationKey, message_id: str | None) -> AsyncIterator[Turn]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            duplicate = message_id is not None and (key, message_id) in self._seen
            state = ConversationState.from_json(self._states.get(key))

            async def finder(year: int, hashes: list[str]) -> list[tuple[str, str]]:
                return self._find_conflicts(key, year, hashes)

            turn = Turn(key, state, duplicate, finder)
            yield turn
            if duplicate:
                return
            if message_id is not None:
                self._seen.add((key, message_id))
            self._states[key] = turn.state.to_json()
            self._lines.setdefault(key, []).extend(turn.lines)
            self._misses.extend((key, miss) for miss in turn.misses)
            self._counts["turns"] = self._counts.get("turns", 0) + 1
            for outcome in turn.outcomes:
                self._counts[outcome] = self._counts.get(outcome, 0) + 1
            self._outcomes.append((utcnow(), key, tuple(turn.outcomes)))
            if turn.claims is not None:
                self._claims[key] = turn.claims

    def turn(
        self, key: ConversationKey, message_id: str | None
    ) -> AbstractAsyncContextManager[Turn]:
        return self._turn(key, message_id)

    def _find_conflicts(
        self, key: ConversationKey, policy_year: int, hashes: list[str]
    ) -> list[tuple[str, str]]:
        wanted = set(hashes)
        found: list[tuple[str, str]] = []
        for other, (year, unit, people) in self._claims.items():
            if other != key and year == policy_year:
                found.extend((p.id_hash, unit) for p in people if p.id_hash in wanted)
        return found

    async def transcript(self, key: ConversationKey) -> list[TranscriptLine]:
        return list(self._lines.get(key, []))

    async def forget_user(self, channel: str, user_id: str) -> int:
        keys = [k for k in self._states if k.channel == channel and k.user_id == user_id]
        for k in keys:
            self._states.pop(k, None)
            self._lines.pop(k, None)
            self._claims.pop(k, None)
        self._misses = [(k, m) for k, m in self._misses if k not in keys]
        self._outbox.forget(keys)
        return len(keys)

    async def misses(self, since: dt.date | None = None) -> list[Miss]:
        return [m for _, m in self._misses if since is None or m.at.date() >= since]

    async def stats(self) -> dict[str, int]:
        return {
            "conversations": len(self._states),
            "turns": self._counts.get("turns", 0),
            "answers": self._counts.get("answer", 0),
            "clarifications": self._counts.get("clarify", 0),
            "fallbacks": self._counts.get("fallback", 0),
        }

    async def offered(self, key: ConversationKey) -> list[dict[str, str]]:
        return ConversationState.from_json(self._states.get(key)).choices

    async def figures(self, first: dt.date, last: dt.date) -> list[DayFigures]:
        rows = [
            (at.astimezone(SHANGHAI).date(), key, outcomes) for at, key, outcomes in self._outcomes
        ]
        return [
            day_figures(day, [(k, o) for d, k, o in rows if d == day]) for day in days(first, last)
        ]


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def day_figures(day: dt.date, turns: list[tuple[object, tuple[Outcome, ...]]]) -> DayFigures:
    """A day's figures from its turns: (conversation, outcomes) each."""
    outcomes = [o for _, turn in turns for o in turn]
    return DayFigures(
        day=day,
        conversations=len({conversation for conversation, _ in turns}),
        turns=len(turns),
        answers=outcomes.count("answer"),
        clarifications=outcomes.count("clarify"),
        fallbacks=outcomes.count("fallback"),
        enrollments_started=outcomes.count("enroll_start"),
        enrollments_finished=outcomes.count("enroll_done"),
    )
