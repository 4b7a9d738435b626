"""Flows declared as data: steps, prompts, slot extractors, transitions and routes.

A flow is checked when it is defined: its start step exists, every step is reachable from
it through the declared transitions, end steps have none, every transition names a step,
and a step's last transition is its default (it has no condition). A step either asks
(``prompt`` + ``extract``), acts (``act`` then moves on), or ends the flow (``end``). The
next step is the first of its transitions (``Go(target, when=condition)``, or a plain name
for one without a condition) whose condition holds on the slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flows.messages import Choice, Reply
from flows.storage import PersonClaim
from rules.catalog import say_on

if TYPE_CHECKING:  # cryptography is imported only by the commands that run flows
    from flows.vault import Vault


class Invalid(Exception):
    """An answer that cannot fill the slot; ``reason`` says why in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FlowDefinitionError(Exception):
    """A flow whose steps and transitions do not form a valid machine."""


Progress = Callable[[str], Awaitable[None]]
Claims = tuple[int, str, tuple[PersonClaim, ...]]
"""(policy year, unit name, people): the ID numbers a draft claims for its unit."""
FindConflicts = Callable[[int, list[str]], Awaitable[list[tuple[str, str]]]]
"""(policy year, ID hashes) -> (hash, unit) of the other drafts claiming any of them."""


def _no_step() -> str | None:
    return None


def _no_claims(claims: Claims) -> None:
    raise RuntimeError("this context records no claims")


async def _no_conflicts(year: int, hashes: list[str]) -> list[tuple[str, str]]:
    return []


@dataclass
class FlowContext:
    """What a step sees: the slots, today's date, the files sent, the vault, and the few
    things of the turn a flow may use (the pending step, the draft's ID claims)."""

    slots: dict[str, Any]
    today: dt.date
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Files the user sent in this message, by name."""
    vault: Vault | None = None
    """Seals personal data kept in the draft (None where no flow needs it)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """The menu labels of the flows, by name (a "查询参保状态" button after a result)."""
    progress: Progress | None = None
    """Reports a long task's progress to the user while the turn runs (a channel's hook)."""
    prepared: Any = None
    """What the pending step's ``prepare`` made of this message's file before the turn."""
    memo: dict[str, Any] = field(default_factory=dict)
    """What a flow derives from its slots once per turn (a draft, its rows opened by the
    vault); never persisted, and never read to choose a transition."""
    where: Callable[[], str | None] = _no_step
    """The conversation's pending step, read when asked (the turn moves it)."""
    claim: Callable[[Claims], None] = _no_claims
    """Replaces this conversation's ID claims when the turn is saved."""
    find_conflicts: FindConflicts = _no_conflicts
    """Which other conversations' drafts claim any of these ID hashes."""

    @property
    def step(self) -> str | None:
        """The pending step of the conversation's flow."""
        return self.where()

    def say(self, key: str, /, **values: Any) -> str:
        """A catalog sentence in the figures of the policy year this conversation enrolls
        into today (the newest year where the data has none)."""
        return say_on(self.today, key, **values)


Prompt = Callable[[FlowContext], Reply]
Extract = Callable[[str, FlowContext], Any]
"""Return the slot value, None if the text says nothing about it, or raise Invalid."""
Act = Callable[[FlowContext], Awaitable[list[Reply]]]
Condition = Callable[[FlowContext], bool]
Prefill = Callable[[str, FlowContext], None]


@dataclass(frozen=True)
class Go:
    """A transition to ``target``, taken when ``when`` holds (always when it is None)."""

    target: str
    when: Condition | None = None


@dataclass(frozen=True)
class Step:
    name: str
    prompt: Prompt | None = None
    extract: Extract | None = None
    transitions: tuple[Go | str, ...] = ()
    """Tried in order; the first whose condition holds is taken. A name is a ``Go``
    without a condition."""
    act: Act | None = None
    end: bool = False
    accepts_files: bool = False
    """The step takes an uploaded file as its answer (the roster)."""
    prepare: Callable[[FlowContext], Awaitable[Any]] | None = None
    """Work on an uploaded file that needs no transaction (reading and checking a roster),
    run before the turn claims the conversation; its result reaches the turn as
    ``FlowContext.prepared``. On SQLite a turn holds the database's one write lock, so a
    big or hostile file read inside it would stop every other conversation."""
    pause: bool = False
    """After its act, park the flow at the next step and leave it ("come back later")."""
    corrects: str | None = None
    """Words naming this step's slot ("人数", "起保"): the slot can be changed later by a
    message that names it or marks a correction ("不对，是10个人"). None: not correctable."""
    show: Callable[[Any, FlowContext], str] | None = None
    """The slot's value as the user reads it, for "已改为…" after a correction."""
    literal: Callable[[str], bool] | None = None
    """Whether a text is this step's answer word for word even when it holds a command's
    words (a unit called "上海找人工有限公司" at the unit-name question)."""
    also: Callable[[str], dict[str, Any]] | None = None
    """Other slots the same words fill, as a pure function of the text (the code typed with
    "有，是SH2023001"). The engine stores them wherever it takes this step's answer: the
    answer itself, a correction, a follow-up."""
    replay: bool = False
    """Run this step's act again when an earlier answer is corrected (it shows or checks
    something that depends on it); other acts (help texts, file checks) are not repeated."""

    @property
    def asks(self) -> bool:
        return self.prompt is not None

    @property
    def exits(self) -> tuple[Go, ...]:
        return tuple(t if isinstance(t, Go) else Go(t) for t in self.transitions)

    def take(self, value: Any, text: str, ctx: FlowContext) -> bool:
        """Store ``value`` read from ``text`` as this step's answer, with what else the
        words fill; True if any slot changed."""
        values = {self.name: value, **(self.also(text) if self.also else {})}
        changed = any(ctx.slots.get(k) != v for k, v in values.items())
        ctx.slots.update(values)
        return changed

    def next(self, ctx: FlowContext) -> str:
        return next(go.target for go in self.exits if go.when is None or go.when(ctx))


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    start: str
    steps: Mapping[str, Step]
    prefill: Prefill | None = None
    """Fills any slots a free-text message mentions (a whole request in one message)."""
    resumable: bool = False
    """Left unfinished, the flow is parked and resumed where it stopped when started again."""
    early_file: Callable[[str, bytes, FlowContext], list[Reply]] | None = None
    """Takes a file sent while a step that takes none is pending (a roster sent before the
    roster step, kept for it); [] lets the engine say it is not needed now."""
    discard: Callable[[FlowContext], None] | None = None
    """Releases what a draft of this flow holds outside its slots when the user deletes
    the draft (the ID numbers an enrollment claimed)."""
    result_step: str | None = None
    """The step that shows the flow's result. Shown again on request ("汇总没收到", "继续参保")
    while the ``held`` slots are kept: a result lost in a crash between saving and
    delivery can be delivered again."""
    held: tuple[str, ...] = ()
    """Slots the finished flow keeps only until the user has its result: dropped by the
    next message that is not a request to see it again (the sealed roster rows)."""
    shares: Callable[[FlowContext], dict[str, Any]] | None = None
    """Slots this flow lends to a flow run beside it (the enrollment's start date for a quote
    asked in the middle of it)."""

    def __post_init__(self) -> None:
        if self.start not in self.steps:
            raise FlowDefinitionError(f"{self.name}: no start step {self.start}")
        for name, step in self.steps.items():
            if name != step.name:
                raise FlowDefinitionError(f"{self.name}: step key {name} != {step.name}")
            if step.pause and step.act is None:
                raise FlowDefinitionError(f"{self.name}: pausing step {name} does nothing")
            if step.end and step.transitions:
                raise FlowDefinitionError(f"{self.name}: end step {name} has exits")
            if not step.end and not step.transitions:
                raise FlowDefinitionError(f"{self.name}: step {name} has no exit")
            if step.asks and step.extract is None:
                raise FlowDefinitionError(f"{self.name}: step {name} asks but extracts nothing")
            if step.exits and step.exits[-1].when is not None:
                raise FlowDefinitionError(f"{self.name}: step {name} has no default exit")
            for go in step.exits:
                if go.target not in self.steps:
                    raise FlowDefinitionError(f"{self.name}: {name} -> unknown {go.target}")
        reachable, frontier = {self.start}, [self.start]
        while frontier:
            for target in (go.target for go in self.steps[frontier.pop()].exits):
                if target not in reachable:
                    reachable.add(target)
                    frontier.append(target)
        if unreachable := set(self.steps) - reachable:
            raise FlowDefinitionError(f"{self.name}: unreachable steps {sorted(unreachable)}")


def steps(*items: Step) -> dict[str, Step]:
    return {s.name: s for s in items}


def prefill_slots(extractors: Mapping[str, Extract]) -> Prefill:
    """A prefill that fills whatever a message says; a value the rules refuse is left for
    its step to ask, with the reason kept for that step's prompt (see ``asking``)."""

    def prefill(text: str, ctx: FlowContext) -> None:
        for slot, extract in extractors.items():
            try:
                value = extract(text, ctx)
            except Invalid as exc:
                ctx.slots[f"_{slot}_error"] = exc.reason
                continue
            if value is not None:
                ctx.slots[slot] = value

    return prefill


def asking(
    text: Callable[[FlowContext], str],
    slot: str,
    choices: Callable[[FlowContext], tuple[Choice, ...]] | None = None,
) -> Prompt:
    """A prompt that first says why the slot's earlier value was refused, if it was."""

    def prompt(ctx: FlowContext) -> Reply:
        error = ctx.slots.pop(f"_{slot}_error", None)
        question = text(ctx)
        body = f"{error}\n{question}" if error else question
        return Reply(body, choices(ctx) if choices else ())

    return prompt
