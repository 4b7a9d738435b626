"""The dialog engine: one turn per incoming message, persisted by the storage port.

Order of handling in a turn: a pressed button (or its number typed), a global command (also
inside a sentence: "我要转人工"), then what the text means:

- while a flow waits for an answer: a correction of an earlier answer when the message marks
  one ("不对，是10个人"); else the pending question's answer; else other slots it mentions
  (empty ones filled, named ones changed); else a request for another flow (run beside this
  one when it finishes at once, otherwise this one is parked); else a side question answered
  before asking again;
- outside a flow: a follow-up that changes a value of the last result ("那10个人呢"), a
  flow's label or request (its values prefill the flow), a shortcut (batch status guide), and
  finally the knowledge base, whose matcher ranks flow intents with the entries.

A resumable flow (the enrollment) left for the menu, another flow, /cancel or a pausing
step is parked with its slots; starting it again resumes where it stopped. Only /restart
and /forget discard it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from faq.answer import Answer, FaqService
from flows.extract import CORRECTION, QUESTION, RULE_QUESTION, retracts, strip_correction
from flows.flow import Flow, FlowContext, Invalid, Progress, Step
from flows.messages import Choice, Incoming, IncomingFile, Reply
from flows.storage import ConversationKey, ConversationState, Storage, Turn
from rules.catalog import say
from rules.errors import RulesError
from rules.text import drop_invisible

if TYPE_CHECKING:
    from flows.vault import Vault

MAX_TEXT_CHARS = 2000
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


_COMMANDS = {
    "start": ("/start", "开始", "菜单", "/menu", "主菜单"),
    "help": ("/help", "帮助", "使用帮助"),
    "cancel": ("/cancel", "取消", "退出", "不办了", "算了"),
    "back": ("/back", "返回上一步", "上一步", "返回", "退回上一步"),
    "restart": ("/restart", "重新开始", "从头开始", "重来"),
    "human": ("/human", "人工", "转人工", "人工客服", "找人工"),
    "forget": ("/forget", "删除我的数据", "删除数据", "清除我的数据"),
    "discard": ("/discard", "删除草稿", "删掉草稿", "删除参保草稿", "不要这份草稿了"),
}
_GREETINGS = frozenset({"smalltalk_hello", "smalltalk_help"})
"""Knowledge-base entries a chat answers with the welcome and the menu's buttons."""
_LONGEST_COMMAND_TEXT = 64
_ALWAYS_OFFERED = frozenset({"cmd:start", "cmd:help", "cmd:human"})
"""Buttons harmless in any state; erasing data or leaving a flow needs a fresh offer."""

_COMMAND_OF = {word: name for name, words in _COMMANDS.items() for word in words}
_IN_SENTENCE = {
    "human": re.compile(
        r"(转|找|要|接|问问?|联系|打|转接|跟|和|同|叫|喊)(个|一下|下|一个)?人工|人工客服|真人|有没有人工"
        r"|人工在吗|人工聊"
        r"|^人工服务$"
    ),
    "forget": re.compile(r"(删除|删掉|清除|清空)(我的|我们的)?(数据|资料|个人信息|记录)"),
    "start": re.compile(r"^(先|那|我|还是)?(回到|返回|回|打开|看看?)(主)?菜单"),
    "restart": re.compile(r"^(重新开始|从头开始|从头再来|全部重来)"),
    "cancel": re.compile(
        r"^(算了|好了|那)?[,，\s]*(取消|退出|不办了|不算了|不弄了|不测了|不问了)(吧|了|办理)?"
        r"[,，\s]*(谢谢|谢了|多谢)?$"
        r"|(先|暂时|今天)不(弄|办|搞|做)了|^不(弄|办|搞)了|回头再(说|弄|办)|下次再(说|弄|办)|改天再(说|弄|办)"
        r"|^(今天)?(先|就)(到这|到这里|到这儿|这样)(吧|了)?"
    ),
    "back": re.compile(r"(返回|回到|退回|回)上一步|上一个问题"),
}
"""Commands that still mean themselves inside a sentence ("我要转人工")."""
_SLASH_FLOW = re.compile(r"^/([a-z_]+)$")


def command_of(text: str) -> str | None:
    if len(text) > _LONGEST_COMMAND_TEXT:  # nothing that long is a command; skip the work
        return None
    key = unicodedata.normalize("NFKC", text).strip().lower().rstrip("。.!！")
    if key in _COMMAND_OF:
        return _COMMAND_OF[key]
    if len(key) <= 30:
        for name, pattern in _IN_SENTENCE.items():
            if pattern.search(key):
                return name
    return None


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).strip("。.!！?？")


@dataclass
class Engine:
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
            self._by_label[_plain(label)] = name
            self._by_label[_plain(re.split(r"[（(]", label)[0])] = name

    async def handle(self, message: Incoming, progress: Progress | None = None) -> list[Reply]:
        """Process one message; a message id seen before gets no second answer.

        ``progress`` lets a channel show a long step's progress (a big roster being checked)
        before the replies come."""
        forget = False
        message = _sanitized(message)
        try:
            prepared = await self._prepare(message, progress) if message.file else None
            async with self.storage.turn(message.key, message.message_id) as turn:
                if turn.duplicate:
                    return []
                now = self.now()
                turn.log("user", _describe(message), now)
                if self._confirms_forget(turn.state, message):
                    forget = True
                    replies = [Reply(say("forgotten"), self._menu_choices())]
                elif command_of(message.text) == "forget" and not message.button:
                    # Everything of this user goes at once: said first, and confirmed.
                    confirm = (
                        Choice(say("forget_yes"), "cmd:forget"),
                        Choice(say("forget_no"), "cmd:keep"),
                    )
                    replies = [Reply(say("forget_confirm"), confirm)]
                else:
                    replies = await self._dispatch(turn, message, progress, prepared)
                for reply in replies:
                    turn.log("bot", reply.text, now)
                offered = [c for r in replies for c in r.choices]
                turn.state.choices = [{"label": c.label, "value": c.value} for c in offered]
        except RulesError as exc:
            # A fact the rules lack (no policy data for a draft's date, no calendar): said
            # as the rules word it, and the turn rolled back so nothing half-done is kept.
            return [Reply(f"{exc.message}\n{say('rules_gap')}")]
        if forget:
            await self.storage.forget_user(message.key.channel, message.key.user_id)
        return replies

    async def _prepare(self, message: Incoming, progress: Progress | None) -> object:
        """A file's work done before the turn, on a snapshot of the conversation: the
        pending step's ``prepare`` (None when the step takes no file or needs none)."""
        snapshot = await self._snapshot(message.key)
        state = snapshot.state
        entry = self._flows.get(state.flow or "")
        step = entry.flow.steps.get(state.step or "") if entry else None
        if step is None or step.prepare is None or not step.accepts_files:
            return None
        ctx = self._context(snapshot, message)
        ctx.progress = progress
        return await step.prepare(ctx)

    async def _snapshot(self, key: ConversationKey) -> Turn:
        """The conversation as stored, read in a turn that is rolled back at once."""
        found: list[Turn] = []
        try:
            async with self.storage.turn(key, None) as turn:
                found.append(turn)
                raise _Peeked
        except _Peeked:
            pass
        return found[0]

    # --- dispatch ------------------------------------------------------------------------

    async def _dispatch(
        self,
        turn: Turn,
        message: Incoming,
        progress: Progress | None = None,
        prepared: object = None,
    ) -> list[Reply]:
        text = message.text.strip()
        if len(text) > MAX_TEXT_CHARS:
            return [Reply(say("too_long", chars=len(text), limit=MAX_TEXT_CHARS))]
        if (replies := await self._result_again(turn, message, text)) is not None:
            return replies
        if message.button is not None and not self._offered(turn.state, message.button):
            # A forged or outdated press: buttons are accepted only as hubao offered them.
            return [Reply(say("stale_button"), self._menu_choices())]
        button = message.button or self._numbered_choice(turn.state, text)
        if button:
            return await self._button(turn, button)
        ctx = self._context(turn, message)
        ctx.progress, ctx.prepared = progress, prepared
        if message.file is not None:
            return await self._file(turn, ctx)
        if (command := command_of(text)) and not self._literal(turn.state, text):
            return await self._command(turn, command, ctx)
        if m := _SLASH_FLOW.match(text.lower()):
            if m.group(1) in self._flows:
                return await self._start(turn, m.group(1), ctx, text="")
            return [Reply(say("unknown_command", command=text), self._menu_choices())]
        if not text:
            return [Reply(say("empty"))]
        if turn.state.flow and turn.state.flow in self._flows and turn.state.step:
            return await self._continue(turn, ctx, text)
        return await self._understand(turn, ctx, text)

    async def _result_again(self, turn: Turn, message: Incoming, text: str) -> list[Reply] | None:
        """A finished flow's result shown again when asked for while its held slots are
        kept; any other message means the result arrived, and the held slots go."""
        state = turn.state
        entry = self._flows.get(state.done or "")
        if entry is None or state.flow or not any(s in state.slots for s in entry.flow.held):
            return None
        flow = entry.flow
        asked = (
            not message.button
            and not message.file
            and (
                bool(_AGAIN.search(text) or _RESUME.search(text))
                or self._requested(text) == flow.name
            )
        )
        if not asked or flow.result_step is None:
            for slot in flow.held:
                state.slots.pop(slot, None)
            return None
        state.flow, state.step, state.done = flow.name, flow.result_step, None
        ctx = self._context(turn, message)
        return [
            Reply(say("result_again", title=flow.title)),
            *await self._advance(turn, flow, ctx),
        ]

    async def _understand(self, turn: Turn, ctx: FlowContext, text: str) -> list[Reply]:
        """Outside a flow: a follow-up on the last result, a flow asked for (with what the
        last result lends it), a shortcut, then the knowledge base and the intents."""
        if (replies := await self._follow_up(turn, ctx, text)) is not None:
            return replies
        if name := self._requested(text):
            return await self._start(turn, name, ctx, text, slots=self._lent(turn, ctx, name))
        for entry in self.flows:
            if entry.follow_on is None or not entry.follow_on(text):
                continue
            if entry.flow.name == turn.state.done:  # "重病多久能赔" after a coverage answer
                again = dict(turn.state.slots)
                return await self._start(turn, entry.flow.name, ctx, "", slots=again)
            if lent := self._lent(turn, ctx, entry.flow.name):
                return await self._start(turn, entry.flow.name, ctx, text, slots=lent)
        if turn.state.parked and _RESUME.search(text):  # "接着办" after leaving for the menu
            return await self._start(turn, next(reversed(turn.state.parked)), ctx, text="")
        for shortcut in self.shortcuts:
            replies = await shortcut(text, ctx)
            if replies is not None:
                turn.count("answer")
                return replies
        answer = self._ask(text)
        if answer.intent in self._flows and answer.intent is not None:
            lent = self._lent(turn, ctx, answer.intent)
            return await self._start(turn, answer.intent, ctx, text, slots=lent)
        return self._faq(turn, text, answer)

    def _ask(self, text: str) -> Answer:
        """Entries and intents ranked together; when neither is sure, the entries alone may
        be (a flow's request close behind must not turn a known answer into a choice)."""
        answer = self.faq.ask(text, intents=True)
        if answer.status != "answer":
            entries_only = self.faq.ask(text)
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
        if name := self._by_label.get(_plain(text)):
            return name
        for entry in self.flows:
            if entry.trigger is not None and entry.trigger(text):
                return entry.flow.name
        return None

    def _literal(self, state: ConversationState, text: str) -> bool:
        """The pending question takes this text word for word (not an exact command)."""
        entry = self._flows.get(state.flow or "")
        step = entry.flow.steps.get(state.step or "") if entry else None
        exact = _plain(text).lower() in _COMMAND_OF
        return bool(step and step.literal and not exact and step.literal(text))

    def _confirms_forget(self, state: ConversationState, message: Incoming) -> bool:
        """The erase-everything button (or its label typed) right after it was offered."""
        text = message.text.strip()
        value = message.button or (self._numbered_choice(state, text) if text else None)
        return value == "cmd:forget" and self._offered(state, value)

    def _offered(self, state: ConversationState, value: str) -> bool:
        """Offered in the last replies, or a press that only opens what the menu and the
        knowledge base offer anyone (an old menu button still works)."""
        if value in {c["value"] for c in state.choices}:
            return True
        kind, _, arg = value.partition(":")
        if kind == "flow":
            return arg in self._flows
        if kind == "faq":
            return arg in self.faq.kb.by_id
        return value in _ALWAYS_OFFERED

    def _numbered_choice(self, state: ConversationState, text: str) -> str | None:
        """A choice picked by typing its number or its label ("换个组合再算")."""
        digits = unicodedata.normalize("NFKC", text).strip().rstrip(".。")
        if digits.isdecimal() and digits.isascii() and 1 <= int(digits) <= len(state.choices):
            return state.choices[int(digits) - 1]["value"]
        typed = _plain(text)
        for choice in state.choices:
            if typed and _plain(choice["label"]) == typed:
                return choice["value"]
        return None

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

    # --- knowledge base ------------------------------------------------------------------

    def _faq(self, turn: Turn, text: str, answer: Answer) -> list[Reply]:
        turn.count(answer.status)
        if answer.entry in _GREETINGS:  # in chat a greeting shows what hubao does
            return [Reply(say("welcome"), self._menu_choices())]
        if answer.status == "fallback":
            if answer.place is None:  # another agency's business is no gap to fill
                turn.miss(text, self.now())
            return [Reply(answer.text, (Choice(say("menu_label"), "cmd:start"),))]
        choices = tuple(Choice(s.question, f"faq:{s.entry}") for s in answer.suggestions)
        return [Reply(answer.body or answer.text, choices)]

    # --- buttons and commands ------------------------------------------------------------

    async def _button(self, turn: Turn, value: str) -> list[Reply]:
        kind, _, arg = value.partition(":")
        ctx = self._context(turn)
        intent = self.faq.kb.by_id[arg].flow if arg in self.faq.kb.by_id else ""
        if kind == "faq" and intent in self._flows:
            return await self._start(turn, intent, ctx, text="")
        if kind == "faq" and arg in self.faq.kb.by_id:
            turn.count("answer")
            answer = self.faq.answer_entry(arg)
            replies = [Reply(answer.body or answer.text, tuple(
                Choice(s.question, f"faq:{s.entry}") for s in answer.suggestions))]  # fmt: skip
            return replies + self._pending_prompt(turn, ctx, again=True)
        if kind == "flow" and arg in self._flows:
            return await self._start(turn, arg, ctx, text="")
        if kind == "redo":
            flow_name, _, slot = arg.partition(":")
            if flow_name in self._flows:
                kept = {k: v for k, v in turn.state.slots.items() if k != slot}
                return await self._start(turn, flow_name, ctx, text="", slots=kept)
        if kind == "cmd" and (arg in _COMMANDS or arg == "keep") and arg != "forget":
            return await self._command(turn, arg, ctx)
        if kind == "v" and turn.state.flow and turn.state.step:
            return await self._continue(turn, ctx, arg)
        # A button from an old message (e.g. after a restart of the bot or a finished flow).
        return [Reply(say("stale_button"), self._menu_choices())]

    async def _command(self, turn: Turn, command: str, ctx: FlowContext) -> list[Reply]:
        state = turn.state
        if command == "start":
            self._leave(state)
            return [Reply(say("welcome"), self._menu_choices())]
        if command == "help":
            return [
                Reply(say("help"), self._menu_choices()),
                *self._pending_prompt(turn, ctx, again=True),
            ]
        if command == "human":
            return [Reply(say("human")), *self._pending_prompt(turn, ctx, again=True)]
        if command == "cancel":
            was = state.flow
            parked = self._leave(state)
            key = "cancelled_kept" if parked else "cancelled" if was else "nothing_to_cancel"
            title = self._flows[was].flow.title if parked and was else ""
            return [Reply(say(key, title=title), self._menu_choices())]
        if command == "restart":
            if state.flow in self._flows and state.flow is not None:
                state.parked.pop(state.flow, None)
                return await self._start(turn, state.flow, ctx, text="", slots={})
            return [Reply(say("welcome"), self._menu_choices())]
        if command == "back":
            return await self._back(turn, ctx)
        if command == "discard":
            return self._discard(turn, ctx)
        if command == "keep":
            return [Reply(say("forget_kept")), *self._pending_prompt(turn, ctx, again=True)]
        return [Reply(say("stale_button"), self._menu_choices())]

    def _discard(self, turn: Turn, ctx: FlowContext) -> list[Reply]:
        """Delete the user's drafts (the current one and any parked), nothing else."""
        state = turn.state
        drafts = dict(state.parked)
        if state.flow in self._flows and self._flows[str(state.flow)].flow.resumable:
            drafts[str(state.flow)] = {"slots": state.slots}
            _leave_flow(state)
            state.slots = {}
        if not drafts:
            return [Reply(say("no_draft"), self._menu_choices())]
        for name, parked in drafts.items():
            flow = self._flows[name].flow if name in self._flows else None
            if flow is not None and flow.discard is not None:
                flow.discard(replace(ctx, slots=dict(parked.get("slots") or {})))
        state.parked = {}
        titles = "、".join(f"“{self._flows[n].flow.title}”" for n in drafts if n in self._flows)
        return [Reply(say("draft_discarded", titles=titles), self._menu_choices())]

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
        _leave_flow(state)
        return parked

    def _menu_choices(self) -> tuple[Choice, ...]:
        return tuple(
            Choice(self._labels.get(e.flow.name, e.flow.title), f"flow:{e.flow.name}")
            for e in self.flows
            if e.in_menu
        )

    # --- flows ---------------------------------------------------------------------------

    async def _start(
        self,
        turn: Turn,
        name: str,
        ctx: FlowContext,
        text: str,
        slots: dict[str, object] | None = None,
    ) -> list[Reply]:
        flow = self._flows[name].flow
        state = turn.state
        if state.flow == name and flow.resumable and slots is None and state.step:
            # "继续参保" while already enrolling: carry on, never wipe the draft.
            return [Reply(say("resumed", title=flow.title)), *self._pending_prompt(turn, ctx)]
        if state.flow != name:
            self._leave(state)
        state.done = None
        turn.count("flow")
        parked = state.parked.pop(name, None) if flow.resumable and slots is None else None
        if parked is not None:
            state.flow, state.step, state.misses = name, parked["step"], 0
            state.back = list(parked.get("back") or [])
            state.slots = dict(parked.get("slots") or {})
            ctx.slots = state.slots
            resumed = Reply(say("resumed", title=flow.title))
            return [resumed, *await self._advance(turn, flow, ctx)]
        state.flow, state.step, state.misses, state.back = name, flow.start, 0, []
        state.slots = dict(slots) if slots is not None else {}
        ctx.slots = state.slots
        if text and flow.prefill is not None:
            flow.prefill(text, ctx)
        return await self._advance(turn, flow, ctx)

    async def _continue(self, turn: Turn, ctx: FlowContext, text: str) -> list[Reply]:
        state = turn.state
        flow = self._flows[str(state.flow)].flow
        step = flow.steps[str(state.step)]
        assert step.extract is not None
        if step.corrects is not None and RULE_QUESTION.search(text):
            # "他们也能参加A0吗" at the head-count question: a question, not an answer
            return await self._aside(turn, ctx, step, text)
        if CORRECTION.search(text):
            replies = await self._correct(turn, flow, ctx, text, latest=retracts(text))
            if replies is not None:
                return replies
        try:
            value = step.extract(strip_correction(text) or text, ctx) if text else None
            if value is None:  # "不是老单位，没有编码": the marker may be the answer itself
                value = step.extract(text, ctx)
        except Invalid as exc:
            return self._reask(turn, ctx, step, exc.reason)
        if value is None:
            before = dict(state.slots)
            if flow.prefill is not None:
                _prefill_missing(flow, text, ctx)
            if state.slots != before:
                return await self._advance(turn, flow, ctx)
            if not QUESTION.search(text):
                replies = await self._correct(turn, flow, ctx, text, latest=False)
                if replies is not None:
                    return replies
            trigger = self._flows[flow.name].trigger
            if trigger is not None and trigger(text):  # "继续参保" while already in it
                return await self._start(turn, flow.name, ctx, text="")
            return await self._aside(turn, ctx, step, text)
        if flow.prefill is not None:
            _prefill_missing(flow, text, ctx)
        state.slots[step.name] = value
        state.misses = 0
        return await self._advance(turn, flow, ctx)

    async def _aside(self, turn: Turn, ctx: FlowContext, step: Step, text: str) -> list[Reply]:
        """A message that does not answer the pending question: another flow's request, or a
        question answered before asking again."""
        state = turn.state
        for shortcut in self.shortcuts:  # "平台上显示待选择保障项目是啥意思"
            replies = await shortcut(text, ctx)
            if replies is not None:
                turn.count("answer")
                return [*replies, *self._pending_prompt(turn, ctx, again=True)]
        answer = self._ask(text)
        other = self._requested(text) or answer.intent
        if other in self._flows and other is not None and other != state.flow:
            return await self._beside(turn, ctx, other, text)
        if answer.intent == state.flow:
            return await self._start(turn, str(state.flow), ctx, text="")
        if answer.status == "answer" and answer.intent is None:
            turn.count("answer")
            return [Reply(answer.body), *self._pending_prompt(turn, ctx, again=True)]
        if CORRECTION.search(text):  # "不对" with nothing to change it to
            return self._reask(turn, ctx, step, say("what_to_change"))
        if not QUESTION.search(text):
            return self._reask(turn, ctx, step, say("not_understood"))
        # A side question the knowledge base cannot settle: say so as it would outside
        # the flow (choices to pick, or the hotline, and the miss recorded), then go on.
        turn.count(answer.status)
        choices = tuple(Choice(s.question, f"faq:{s.entry}") for s in answer.suggestions)
        if answer.status == "fallback" and answer.place is None:
            turn.miss(text, self.now())
        return [
            Reply(answer.body or answer.text, choices),
            *self._pending_prompt(turn, ctx, again=True),
        ]

    async def _beside(self, turn: Turn, ctx: FlowContext, name: str, text: str) -> list[Reply]:
        """Another flow asked for in the middle of this one. A resumable flow (the enrollment)
        whose side request finishes at once (a quote with all its values) asks its question
        again; otherwise this flow is left (a resumable one parked) and the other goes on, its
        result then being what follow-ups refer to."""
        state = turn.state
        current = self._flows[str(state.flow)].flow
        lent = current.shares(ctx) if current.shares is not None else {}
        saved = (state.flow, state.step, state.slots, state.back, state.misses)
        replies = await self._start(turn, name, ctx, text, slots=lent)
        if state.flow is None and current.resumable:  # back to the enrollment's question
            state.parked.pop(current.name, None)
            state.flow, state.step, state.slots, state.back, state.misses = saved
            state.done = None
            ctx.slots = state.slots
            return [*replies, *self._pending_prompt(turn, ctx, again=True)]
        if current.resumable:
            return [Reply(say("parked_beside", title=current.title)), *replies]
        return replies

    async def _correct(
        self, turn: Turn, flow: Flow, ctx: FlowContext, text: str, latest: bool
    ) -> list[Reply] | None:
        """An earlier answer changed: the step whose slot the message names ("提交日期改成
        7月20日") takes the new value, or with ``latest`` ("不对，是10个人") the answer
        given last. The flow then runs on from there, asking only what is still missing."""
        state = turn.state
        answered = [
            flow.steps[b["step"]]
            for b in reversed(state.back)
            if b["step"] in flow.steps and b["step"] != state.step
        ]
        # Then slots filled in passing ("8个" said at the plans question), not yet asked.
        answered += [s for s in flow.steps.values() if s.name != state.step]
        answered = [
            s for s in dict.fromkeys(answered) if s.corrects is not None and s.name in ctx.slots
        ]
        order = [s for s in answered if s.corrects and re.search(s.corrects, text)]
        if latest and answered and answered[0] not in order:
            order.append(answered[0])
        value_text = strip_correction(text) or text
        for target in order:
            assert target.extract is not None
            try:
                value = target.extract(value_text, ctx)
            except Invalid as exc:
                pending = flow.steps[str(state.step)]
                return self._reask(turn, ctx, pending, exc.reason)
            if value is None:
                continue
            if value == ctx.slots.get(target.name):
                same = Reply(
                    say("unchanged", value=target.show(value, ctx) if target.show else "")
                )
                return [same, *self._pending_prompt(turn, ctx)]
            return await self._replay(turn, flow, ctx, target, value)
        return None

    async def _replay(
        self, turn: Turn, flow: Flow, ctx: FlowContext, target: Step, value: object
    ) -> list[Reply]:
        state = turn.state
        ctx.slots[target.name] = value
        shown = target.show(value, ctx) if target.show else ""
        note = Reply(say("changed", value=shown))
        steps_back = [b["step"] for b in state.back]
        if target.name not in steps_back:  # not reached yet: the pending question stands
            return [note, *self._pending_prompt(turn, ctx)]
        state.back = state.back[: steps_back.index(target.name)]
        state.step, state.misses = target.name, 0
        return [note, *await self._advance(turn, flow, ctx, replay=True)]

    async def _follow_up(self, turn: Turn, ctx: FlowContext, text: str) -> list[Reply] | None:
        """After a result, a message that changes some of its values ("那10个人呢", "去掉C0",
        "要是7月5号才交呢") runs the flow again with the others kept."""
        state = turn.state
        if state.done not in self._flows or state.done is None:
            return None
        if (QUESTION.search(text) and not _FOLLOW_UP.search(text)) or RULE_QUESTION.search(text):
            return None  # a question of its own ("没社保的能买A1吗"), not a new value
        flow = self._flows[state.done].flow
        value_text = strip_correction(text) or text
        changes: list[tuple[Step, object]] = []
        same: list[Step] = []
        for step in flow.steps.values():
            if not step.corrects or step.extract is None or step.name not in ctx.slots:
                continue
            if not re.search(step.corrects, text):
                continue
            try:
                value = step.extract(value_text, ctx)
            except Invalid as exc:
                return [Reply(exc.reason)]
            if value is not None and value != ctx.slots.get(step.name):
                changes.append((step, value))
            elif value is not None:
                same.append(step)
        if not changes and same and self._requested(text) is None:
            # "那就最早那天" for the start already quoted: show the result again
            state.flow, state.step, state.back, state.misses = flow.name, same[0].name, [], 0
            state.done = None
            shown = same[0].show(ctx.slots[same[0].name], ctx) if same[0].show else ""
            note = Reply(say("unchanged", value=shown))
            return [note, *await self._advance(turn, flow, ctx, replay=True)]
        if not changes:
            if retracts(text) and len(strip_correction(text)) < 2:  # "不对" after a result
                offered = tuple(Choice(c["label"], c["value"]) for c in state.choices)
                return [Reply(say("what_to_change"), offered)]
            return None
        notes = []
        for step, value in changes:
            ctx.slots[step.name] = value
            if step.show:
                notes.append(step.show(value, ctx))
        # The flow runs again from the first changed answer, only what depends on it redone.
        state.flow, state.step, state.back, state.misses = flow.name, changes[0][0].name, [], 0
        state.done = None
        turn.count("flow")
        replies = await self._advance(turn, flow, ctx, replay=True)
        return [Reply(say("changed", value="，".join(notes))), *replies]

    async def _advance(
        self, turn: Turn, flow: Flow, ctx: FlowContext, replay: bool = False
    ) -> list[Reply]:
        """Move through filled and acting steps until one needs the user or the flow ends.
        After a correction (``replay``) only the acts that follow the corrected answer at
        once (its help text) and those that depend on answers (``Step.replay``) run again."""
        state = turn.state
        replies: list[Reply] = []
        corrected, fresh = state.step, replay
        for _ in range(len(flow.steps) * 3):  # a bound: routes cannot loop forever
            step = flow.steps[str(state.step)]
            if replay and step.asks and step.name != corrected:
                fresh = False  # acts right after the corrected answer are its consequence
            if step.act is not None and (not replay or step.replay or step.end or fresh):
                replies += await step.act(ctx)
            if step.end:
                _finish_flow(state)
                return replies
            if step.pause and not replay:
                state.step = step.next(ctx)
                self._leave(state)
                return replies
            if step.asks and step.name not in state.slots:
                state.misses = 0
                prompt = step.prompt(ctx) if step.prompt else Reply("")
                return [*replies, prompt]
            if step.asks and {"step": step.name} not in state.back:
                state.back.append({"step": step.name})
            state.step = step.next(ctx)
            if state.flow is None:
                return replies
        raise RuntimeError(f"flow {flow.name} did not settle")

    async def _back(self, turn: Turn, ctx: FlowContext) -> list[Reply]:
        state = turn.state
        if not state.flow or state.flow not in self._flows:
            return [Reply(say("nothing_to_go_back_to"), self._menu_choices())]
        flow = self._flows[state.flow].flow
        if not state.back:
            return [Reply(say("already_first_step")), *self._pending_prompt(turn, ctx)]
        # A step that loops back to itself (a roster fixed in chat) is on the stack too.
        while len(state.back) > 1 and state.back[-1]["step"] == state.step:
            state.back.pop()
        previous = flow.steps[state.back.pop()["step"]]
        state.slots.pop(previous.name, None)
        state.step = previous.name
        state.misses = 0
        return [previous.prompt(ctx)] if previous.prompt else []

    def _pending_prompt(self, turn: Turn, ctx: FlowContext, again: bool = False) -> list[Reply]:
        state = turn.state
        if not state.flow or state.flow not in self._flows or not state.step:
            return []
        step = self._flows[state.flow].flow.steps[state.step]
        if step.prompt is None:
            return []
        prompt = step.prompt(ctx)
        if again:
            prompt = Reply(say("back_to_question") + prompt.text, prompt.choices, prompt.files)
        return [prompt]

    def _reask(self, turn: Turn, ctx: FlowContext, step: Step, reason: str) -> list[Reply]:
        state = turn.state
        state.misses += 1
        prompt = step.prompt(ctx) if step.prompt else Reply("")
        choices = prompt.choices
        text = f"{reason}\n{prompt.text}"
        if state.misses >= MAX_MISSES:
            choices = (*choices, Choice(say("human_label"), "cmd:human"))
            text += "\n" + say("many_misses")
        return [Reply(text, tuple(dict.fromkeys(choices)), prompt.files)]

    async def _file(self, turn: Turn, ctx: FlowContext) -> list[Reply]:
        state = turn.state
        if state.flow in self._flows and state.step and state.flow is not None:
            flow = self._flows[state.flow].flow
            step = flow.steps[state.step]
            if step.accepts_files and ctx.files:
                return await self._continue(turn, ctx, "")
            if flow.early_file is not None and ctx.files:
                name, data = next(iter(ctx.files.items()))
                if kept := flow.early_file(name, data, ctx):
                    return [*kept, *self._pending_prompt(turn, ctx)]
            return [Reply(say("file_not_now")), *self._pending_prompt(turn, ctx)]
        return [Reply(say("file_outside_flow"), self._menu_choices())]


class _Peeked(Exception):
    """Ends a snapshot's turn without saving anything."""


def _leave_flow(state: ConversationState) -> None:
    state.flow, state.step, state.back, state.misses = None, None, [], 0


def _finish_flow(state: ConversationState) -> None:
    """A finished flow keeps its slots, so "compare another combination" can reuse them."""
    if state.flow is not None:
        state.parked.pop(state.flow, None)
    state.done = state.flow
    _leave_flow(state)


_RESUME = re.compile(r"^(继续|接着)(办|弄|来|做|填|吧)*(吧|了)?$|(继续|接着)(刚才|上次|之前)")

_AGAIN = re.compile(
    r"没(有)?收到|没看到|没显示|没出来|再发|重发|重新发|发一下|文件呢|汇总呢|名单呢|结果呢"
    r"|怎么没(反应|回复|回|动静)|卡住|掉线|断了"
)
"""A result that did not arrive, asked for again."""

_FOLLOW_UP = re.compile(
    r"^(那|那么|要是|如果|假如|假设|换|改|再|去掉|加上|加一个|加个|不对)|呢|的话|再算|重新算|算一下|换成|改成"
    r"|看看"
    r"|去掉|加上|多少钱|交多少|要多少"
)
"""Words of a follow-up on a result, which a question may carry ("要是7月5号才交呢")."""


def _prefill_missing(flow: Flow, text: str, ctx: FlowContext) -> None:
    """While a flow waits, a message may mention other slots; fill only empty ones. What
    the other slots' parsers refuse is not reported: the message answered something else."""
    assert flow.prefill is not None
    filled = dict(ctx.slots)
    flow.prefill(text, ctx)
    for key in [k for k in ctx.slots if k not in filled and k.endswith("_error")]:
        del ctx.slots[key]
    for key, value in filled.items():
        ctx.slots[key] = value


_MAX_BUTTON_CHARS = 256
_MAX_FILE_NAME_CHARS = 255


def _sanitized(message: Incoming) -> Incoming:
    """The message as the engine reads it, whatever a channel let through."""
    text = drop_invisible(message.text)
    button = message.button
    if button is not None:
        button = drop_invisible(button)[:_MAX_BUTTON_CHARS]
    file = message.file
    if file is not None:
        name = drop_invisible(file.name).strip()[-_MAX_FILE_NAME_CHARS:] or "名单"
        file = IncomingFile(name, file.data)
    if (text, button, file) == (message.text, message.button, message.file):
        return message
    return replace(message, text=text, button=button, file=file)


def _describe(message: Incoming) -> str:
    if message.file is not None:
        return f"[文件] {message.file.name}"
    if message.button is not None:
        return f"[按钮] {message.button}"
    return message.text[:MAX_TEXT_CHARS]
