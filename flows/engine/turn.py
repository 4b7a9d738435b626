"""The turn loop: one incoming message handled in one storage turn (a message id seen
before gets no second answer), a file's work done before the turn on a snapshot, the
erase-everything request confirmed first, and the order in which a message is read: a
pressed button, a file, a command, a flow's slash name, the pending question, or the text
outside any flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.engine.commands import Commands
from flows.engine.words import MAX_TEXT_CHARS, SLASH_FLOW, command_of, describe, sanitized
from flows.flow import FlowContext, Progress
from flows.messages import Choice, Incoming, Reply
from flows.storage import ConversationKey, Turn
from rules.errors import RulesError


@dataclass
class Engine(Commands):
    """The dialog engine: ``handle`` answers one message (see the package's docstring for
    the order in which a message is read)."""

    async def handle(self, message: Incoming, progress: Progress | None = None) -> list[Reply]:
        """Process one message; a message id seen before gets no second answer.

        ``progress`` lets a channel show a long step's progress (a big roster being checked)
        before the replies come."""
        forget = False
        message = sanitized(message)
        try:
            prepared = await self._prepare(message, progress) if message.file else None
            async with self.storage.turn(message.key, message.message_id) as turn:
                if turn.duplicate:
                    return []
                now = self.now()
                turn.log("user", describe(message, turn.state.choices), now)
                if self._confirms_forget(turn.state, message):
                    forget = True
                    replies = [Reply(self._say("forgotten"), self._menu_choices())]
                elif command_of(message.text) == "forget" and not message.button:
                    # Everything of this user goes at once: said first, and confirmed.
                    confirm = (
                        Choice(self._say("forget_yes"), "cmd:forget"),
                        Choice(self._say("forget_no"), "cmd:keep"),
                    )
                    replies = [Reply(self._say("forget_confirm"), confirm)]
                else:
                    replies = await self._dispatch(turn, message, progress, prepared)
                for reply in replies:
                    turn.log("bot", reply.text, now)
                offered = [c for r in replies for c in r.choices]
                turn.state.choices = [{"label": c.label, "value": c.value} for c in offered]
        except RulesError as exc:
            # A fact the rules lack (no policy data for a draft's date): said
            # as the rules word it, and the turn rolled back so nothing half-done is kept.
            return [Reply(f"{exc.message}\n{self._say('rules_gap')}")]
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

    async def _dispatch(
        self,
        turn: Turn,
        message: Incoming,
        progress: Progress | None = None,
        prepared: object = None,
    ) -> list[Reply]:
        text = message.text.strip()
        if len(text) > MAX_TEXT_CHARS:
            return [Reply(self._say("too_long", chars=len(text), limit=MAX_TEXT_CHARS))]
        if (replies := await self._result_again(turn, message, text)) is not None:
            return replies
        if message.button is not None and not self._offered(turn.state, message.button):
            # A forged or outdated press: buttons are accepted only as hubao offered them.
            return [Reply(self._say("stale_button"), self._menu_choices())]
        button = message.button or self._numbered_choice(turn.state, text)
        if button:
            return await self._button(turn, button)
        ctx = self._context(turn, message)
        ctx.progress, ctx.prepared = progress, prepared
        if message.file is not None:
            return await self._file(turn, ctx)
        if (command := command_of(text)) and not self._literal(turn.state, text):
            return await self._command(turn, command, ctx)
        if m := SLASH_FLOW.match(text.lower()):
            if m.group(1) in self._flows:
                return await self._start(turn, m.group(1), ctx, text="")
            return [Reply(self._say("unknown_command", command=text), self._menu_choices())]
        if not text:
            return [Reply(self._say("empty"))]
        if turn.state.flow and turn.state.flow in self._flows and turn.state.step:
            return await self._continue(turn, ctx, text)
        return await self._understand(turn, ctx, text)

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
            return [Reply(self._say("file_not_now")), *self._pending_prompt(turn, ctx)]
        return [Reply(self._say("file_outside_flow"), self._menu_choices())]


class _Peeked(Exception):
    """Ends a snapshot's turn without saving anything."""
