"""A message outside a flow: a finished flow's result asked for again, a follow-up that
changes some of the last result's values ("那10个人呢"), a flow asked for by its label, its
values or a follow-on, a shortcut (the batch status guide), and finally the knowledge base,
whose answer, choices to clarify, or fallback to the hotline ends the turn.
"""

from __future__ import annotations

import re

from faq.answer import Answer
from flows.engine.runner import FlowRunner
from flows.engine.words import AGAIN, FOLLOW_UP, GREETINGS, RESUME
from flows.extract import QUESTION, RULE_QUESTION, retracts, strip_correction
from flows.flow import FlowContext, Invalid, Step
from flows.messages import Choice, Incoming, Reply
from flows.storage import Turn


class Understanding(FlowRunner):
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
                bool(AGAIN.search(text) or RESUME.search(text))
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
            Reply(self._say("result_again", title=flow.title)),
            *await self._advance(turn, flow, ctx, again=True),
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
        if turn.state.parked and RESUME.search(text):  # "接着办" after leaving for the menu
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

    async def _follow_up(self, turn: Turn, ctx: FlowContext, text: str) -> list[Reply] | None:
        """After a result, a message that changes some of its values ("那10个人呢", "去掉C0",
        "要是7月5号才交呢") runs the flow again with the others kept."""
        state = turn.state
        if state.done not in self._flows or state.done is None:
            return None
        if (QUESTION.search(text) and not FOLLOW_UP.search(text)) or RULE_QUESTION.search(text):
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
            note = Reply(self._say("unchanged", value=shown))
            return [note, *await self._advance(turn, flow, ctx, replay=True, again=True)]
        if not changes:
            if retracts(text) and len(strip_correction(text)) < 2:  # "不对" after a result
                offered = tuple(Choice(c["label"], c["value"]) for c in state.choices)
                return [Reply(self._say("what_to_change"), offered)]
            return None
        notes = []
        for step, value in changes:
            step.take(value, value_text, ctx)
            if step.show:
                notes.append(step.show(value, ctx))
        # The flow runs again from the first changed answer, only what depends on it redone.
        state.flow, state.step, state.back, state.misses = flow.name, changes[0][0].name, [], 0
        state.done = None
        turn.count("flow")
        replies = await self._advance(turn, flow, ctx, replay=True, again=True)
        return [Reply(self._say("changed", values=notes)), *replies]

    def _faq(self, turn: Turn, text: str, answer: Answer) -> list[Reply]:
        turn.count(answer.status)
        if answer.entry in GREETINGS:  # in chat a greeting shows what hubao does
            return [Reply(self._say("welcome"), self._menu_choices())]
        if answer.status == "fallback":
            if answer.place is None:  # another agency's business is no gap to fill
                turn.miss(text, self.now())
            return [Reply(answer.text, (Choice(self._say("menu_label"), "cmd:start"),))]
        choices = tuple(Choice(s.question, f"faq:{s.entry}") for s in answer.suggestions)
        return [Reply(answer.body or answer.text, choices)]
