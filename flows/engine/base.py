"""What every part of the engine shares: the flows it runs (``FlowEntry``), its ports
(storage, knowledge base, clock, vault) and the small moves on a conversation's state that
the turn loop, the commands and the flow runner all make: leaving a flow (a resumable one
parked), the question pending and asking it again, the menu, the flow a text asks for, and
the context a step sees.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from faq.answer import Answer, FaqService
from flows.engine.words import COMMAND_OF, plain
from flows.flow import Flow, FlowContext, Step
from flows.messages import Choice, Incoming, Reply
from flows.storage import ConversationState, Outcome, Storage, Turn
from rules.catalog import say_on
from rules.policy import PolicyYear, policy_in_force

if TYPE_CHECKING:
    from flows.vault import Vault

MAX_MISSES = 3

Trigger = Callable[[str], bool]
Shortcut = Callable[[str, FlowContext], Awaitable[list[Reply] | None]]


@dataclass(frozen=True)
class FlowEntry:
    flow: Flow
    trigger: Trigger | None = None
    """Starts the flow from the values a message carries ("8个人A0B0C0多少钱"); requests in
    words are the intents of the knowledge base (faq/intents.yaml)."""
    in_menu: bool = True
    follow_on: Trigger | None = None
    """Starts the flow right after another one's result that lends it its values ("那重疾
    什么时候开始能赔" after a quote)."""
    started: Outcome | None = None
    """Counted when the flow starts afresh (not when a parked draft is resumed)."""
    finished: Outcome | None = None
    """Counted when the flow reaches its result step (any end step if it names none), not
    when that result is shown again or redone by a follow-up."""


@dataclass
class EngineBase:
    storage: Storage
    faq: FaqService
    flows: Sequence[FlowEntry]
    today: Callable[[], dt.date]
    now: Callable[[], dt.datetime]
    shortcuts: Sequence[Shortcut] = ()
    vault: Vault | None = None
    """Seals personal data kept in drafts (the enrollment's roster rows)."""

    def __post_init__(self) -> None:
        self._flows = {e.flow.name: e for e in self.flows}
        self._labels = {
            name: entry.question
            for name, entry in self.faq.kb.intents.items()
            if name in self._flows
        }
        self._by_label = {}
        for name, label in self._labels.items():
            self._by_label[plain(label)] = name
            self._by_label[plain(re.split(r"[（(]", label)[0])] = name

    def _say(self, key: str, **values: object) -> str:
        """A catalog sentence with the figures of the policy year the user enrolls into
        today (the newest year where the data has none for today)."""
        return say_on(self.today(), key, **values)

    def _policy(self) -> PolicyYear | None:
        """The policy year a unit enrolls into today, whose figures answers use; None (the
        newest year) where the data has none for today."""
        return policy_in_force(self.today())

    def _ask(self, text: str) -> Answer:
        """Entries and intents ranked together; when neither is sure, the entries alone may
        be (a flow's request close behind must not turn a known answer into a choice)."""
        policy = self._policy()
        answer = self.faq.ask(text, intents=True, policy=policy)
        if answer.status != "answer":
            entries_only = self.faq.ask(text, policy=policy)
            if entries_only.status == "answer":
                return entries_only
        return answer

    def _lent(self, turn: Turn, ctx: FlowContext, name: str) -> dict[str, object] | None:
        """What the flow that just finished lends the next one (a coverage answer's start
        date to a quote asked right after it); None when there is nothing to lend."""
        done = self._flows.get(turn.state.done or "")
        if done is None or done.flow.shares is None or name == done.flow.name:
            return None
        if self._flows[name].flow.resumable:
            return None  # a parked draft is resumed, never started over with lent values
        return done.flow.shares(ctx) or None

    def _requested(self, text: str) -> str | None:
        """A flow asked for by its menu label or by the values the message carries."""
        if name := self._by_label.get(plain(text)):
            return name
        for entry in self.flows:
            if entry.trigger is not None and entry.trigger(text):
                return entry.flow.name
        return None

    def _literal(self, state: ConversationState, text: str) -> bool:
        """The pending question takes this text word for word (not an exact command)."""
        entry = self._flows.get(state.flow or "")
        step = entry.flow.steps.get(state.step or "") if entry else None
        exact = plain(text).lower() in COMMAND_OF
        return bool(step and step.literal and not exact and step.literal(text))

    def _context(self, turn: Turn, message: Incoming | None = None) -> FlowContext:
        files = {message.file.name: message.file.data} if message and message.file else {}
        return FlowContext(
            slots=turn.state.slots,
            today=self.today(),
            files=files,
            vault=self.vault,
            labels=self._labels,
            where=lambda: turn.state.step,
            claim=lambda claims: setattr(turn, "claims", claims),
            find_conflicts=turn.find_conflicts,
        )

    def _leave(self, state: ConversationState) -> bool:
        """Leave the current flow; a resumable one is parked where it stopped. True if so."""
        entry = self._flows.get(state.flow or "")
        parked = entry is not None and entry.flow.resumable and state.step is not None
        if parked and state.flow is not None:
            state.parked[state.flow] = {
                "step": state.step,
                "slots": state.slots,
                "back": state.back,
            }
            state.slots = {}
        leave_flow(state)
        return parked

    def _menu_choices(self) -> tuple[Choice, ...]:
        return tuple(
            Choice(self._labels.get(e.flow.name, e.flow.title), f"flow:{e.flow.name}")
            for e in self.flows
            if e.in_menu
        )

    def _pending_prompt(self, turn: Turn, ctx: FlowContext, again: bool = False) -> list[Reply]:
        state = turn.state
        if not state.flow or state.flow not in self._flows or not state.step:
            return []
        step = self._flows[state.flow].flow.steps[state.step]
        if step.prompt is None:
            return []
        prompt = step.prompt(ctx)
        if again:
            prompt = Reply(
                self._say("back_to_question") + prompt.text, prompt.choices, prompt.files
            )
        return [prompt]

    def _reask(self, turn: Turn, ctx: FlowContext, step: Step, reason: str) -> list[Reply]:
        state = turn.state
        state.misses += 1
        prompt = step.prompt(ctx) if step.prompt else Reply("")
        choices = prompt.choices
        text = f"{reason}\n{prompt.text}"
        if state.misses >= MAX_MISSES:
            choices = (*choices, Choice(self._say("human_label"), "cmd:human"))
            text += "\n" + self._say("many_misses")
        return [Reply(text, tuple(dict.fromkeys(choices)), prompt.files)]


def leave_flow(state: ConversationState) -> None:
    state.flow, state.step, state.back, state.misses = None, None, [], 0


def finish_flow(state: ConversationState) -> None:
    """A finished flow keeps its slots, so "compare another combination" can reuse them."""
    if state.flow is not None:
        state.parked.pop(state.flow, None)
    state.done = state.flow
    leave_flow(state)
