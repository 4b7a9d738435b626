"""The flow runner: starting a flow (or resuming a parked one), taking the pending
question's answer, moving through acting steps until one needs the user, going back a step,
an earlier answer corrected ("不对，是10个人") and the flow replayed from it, and a message
in the middle of a flow that answers something else (another flow's request, a side
question) before the pending question is asked again.
"""

from __future__ import annotations

import re

from flows.engine.base import EngineBase, finish_flow
from flows.extract import CORRECTION, QUESTION, RULE_QUESTION, retracts, strip_correction
from flows.flow import Flow, FlowContext, Invalid, Step
from flows.messages import Choice, Reply
from flows.storage import Turn


class FlowRunner(EngineBase):
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
            return [
                Reply(self._say("resumed", title=flow.title)),
                *self._pending_prompt(turn, ctx),
            ]
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
            resumed = Reply(self._say("resumed", title=flow.title))
            return [resumed, *await self._advance(turn, flow, ctx)]
        state.flow, state.step, state.misses, state.back = name, flow.start, 0, []
        if started := self._flows[name].started:
            turn.count(started)
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
        step.take(value, text, ctx)
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
            return self._reask(turn, ctx, step, self._say("what_to_change"))
        if not QUESTION.search(text):
            return self._reask(turn, ctx, step, self._say("not_understood"))
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
            return [Reply(self._say("parked_beside", title=current.title)), *replies]
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
            if not target.take(value, value_text, ctx):
                same = Reply(
                    self._say("unchanged", value=target.show(value, ctx) if target.show else "")
                )
                return [same, *self._pending_prompt(turn, ctx)]
            return await self._replay(turn, flow, ctx, target, value)
        return None

    async def _replay(
        self, turn: Turn, flow: Flow, ctx: FlowContext, target: Step, value: object
    ) -> list[Reply]:
        state = turn.state
        shown = target.show(value, ctx) if target.show else ""
        note = Reply(self._say("changed", values=[shown]))
        steps_back = [b["step"] for b in state.back]
        if target.name not in steps_back:  # not reached yet: the pending question stands
            return [note, *self._pending_prompt(turn, ctx)]
        state.back = state.back[: steps_back.index(target.name)]
        state.step, state.misses = target.name, 0
        return [note, *await self._advance(turn, flow, ctx, replay=True)]

    async def _advance(
        self, turn: Turn, flow: Flow, ctx: FlowContext, replay: bool = False, again: bool = False
    ) -> list[Reply]:
        """Move through filled and acting steps until one needs the user or the flow ends.
        After a correction (``replay``) only the acts that follow the corrected answer at
        once (its help text) and those that depend on answers (``Step.replay``) run again.
        ``again``: the flow had finished; its result is shown or redone, not counted anew."""
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
                finished = self._flows[flow.name].finished
                if finished and not again and flow.result_step in (None, step.name):
                    turn.count(finished)
                finish_flow(state)
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
            return [Reply(self._say("nothing_to_go_back_to"), self._menu_choices())]
        flow = self._flows[state.flow].flow
        if not state.back:
            return [Reply(self._say("already_first_step")), *self._pending_prompt(turn, ctx)]
        # A step that loops back to itself (a roster fixed in chat) is on the stack too.
        while len(state.back) > 1 and state.back[-1]["step"] == state.step:
            state.back.pop()
        previous = flow.steps[state.back.pop()["step"]]
        state.slots.pop(previous.name, None)
        state.step = previous.name
        state.misses = 0
        return [previous.prompt(ctx)] if previous.prompt else []


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
