"""Buttons and commands: a pressed button (accepted only as hubao offered it, or a menu
and knowledge-base press anyone may make), a choice picked by typing its number or label,
and the commands (menu, help, human, cancel, restart, back, delete a draft, keep the data
after being asked to erase it).
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from flows.engine.base import leave_flow
from flows.engine.outside import Understanding
from flows.engine.words import ALWAYS_OFFERED, COMMANDS, plain
from flows.flow import FlowContext
from flows.messages import Choice, Incoming, Reply
from flows.storage import ConversationState, Turn


class Commands(Understanding):
    async def _button(self, turn: Turn, value: str) -> list[Reply]:
        kind, _, arg = value.partition(":")
        ctx = self._context(turn)
        intent = self.faq.kb.by_id[arg].flow if arg in self.faq.kb.by_id else ""
        if kind == "faq" and intent in self._flows:
            return await self._start(turn, intent, ctx, text="")
        if kind == "faq" and arg in self.faq.kb.by_id:
            turn.count("answer")
            answer = self.faq.answer_entry(arg, self._policy())
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
        if kind == "cmd" and (arg in COMMANDS or arg == "keep") and arg != "forget":
            return await self._command(turn, arg, ctx)
        if kind == "v" and turn.state.flow and turn.state.step:
            return await self._continue(turn, ctx, arg)
        # A button from an old message (e.g. after a restart of the bot or a finished flow).
        return [Reply(self._say("stale_button"), self._menu_choices())]

    async def _command(self, turn: Turn, command: str, ctx: FlowContext) -> list[Reply]:
        state = turn.state
        if command == "start":
            self._leave(state)
            return [Reply(self._say("welcome"), self._menu_choices())]
        if command == "help":
            return [
                Reply(self._say("help"), self._menu_choices()),
                *self._pending_prompt(turn, ctx, again=True),
            ]
        if command == "human":
            return [Reply(self._say("human")), *self._pending_prompt(turn, ctx, again=True)]
        if command == "cancel":
            was = state.flow
            parked = self._leave(state)
            key = "cancelled_kept" if parked else "cancelled" if was else "nothing_to_cancel"
            title = self._flows[was].flow.title if parked and was else ""
            return [Reply(self._say(key, title=title), self._menu_choices())]
        if command == "restart":
            if state.flow in self._flows and state.flow is not None:
                state.parked.pop(state.flow, None)
                return await self._start(turn, state.flow, ctx, text="", slots={})
            return [Reply(self._say("welcome"), self._menu_choices())]
        if command == "back":
            return await self._back(turn, ctx)
        if command == "discard":
            return self._discard(turn, ctx)
        if command == "keep":
            return [Reply(self._say("forget_kept")), *self._pending_prompt(turn, ctx, again=True)]
        return [Reply(self._say("stale_button"), self._menu_choices())]

    def _discard(self, turn: Turn, ctx: FlowContext) -> list[Reply]:
        """Delete the user's drafts (the current one and any parked), nothing else."""
        state = turn.state
        drafts = dict(state.parked)
        if state.flow in self._flows and self._flows[str(state.flow)].flow.resumable:
            drafts[str(state.flow)] = {"slots": state.slots}
            leave_flow(state)
            state.slots = {}
        if not drafts:
            return [Reply(self._say("no_draft"), self._menu_choices())]
        for name, parked in drafts.items():
            flow = self._flows[name].flow if name in self._flows else None
            if flow is not None and flow.discard is not None:
                flow.discard(replace(ctx, slots=dict(parked.get("slots") or {})))
        state.parked = {}
        titles = [self._flows[n].flow.title for n in drafts if n in self._flows]
        return [Reply(self._say("draft_discarded", titles=titles), self._menu_choices())]

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
        return value in ALWAYS_OFFERED

    def _numbered_choice(self, state: ConversationState, text: str) -> str | None:
        """A choice picked by typing its number or its label ("换个组合再算")."""
        digits = unicodedata.normalize("NFKC", text).strip().rstrip(".。")
        if digits.isdecimal() and digits.isascii() and 1 <= int(digits) <= len(state.choices):
            return state.choices[int(digits) - 1]["value"]
        typed = plain(text)
        for choice in state.choices:
            if typed and plain(choice["label"]) == typed:
                return choice["value"]
        return None
