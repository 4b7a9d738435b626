"""Flows are checked when they are defined."""

import datetime as dt

import pytest

from flows.flow import Flow, FlowContext, FlowDefinitionError, Go, Step, steps
from flows.menu import default_flows
from flows.messages import Reply


def ask(ctx):
    return Reply("?")


def extract(text, ctx):
    return text or None


async def act(ctx):
    return []


def test_every_shipped_flow_is_valid():
    assert {e.flow.name for e in default_flows()} >= {
        "enroll",
        "quote",
        "coverage",
        "account",
        "status",
    }


def test_a_missing_start_step_is_refused():
    with pytest.raises(FlowDefinitionError, match="start"):
        Flow("f", "f", "nope", steps(Step("end", act=act, end=True)))


def test_an_unreachable_step_is_refused():
    with pytest.raises(FlowDefinitionError, match="unreachable"):
        Flow("f", "f", "a", steps(
            Step("a", prompt=ask, extract=extract, transitions=("end",)),
            Step("orphan", prompt=ask, extract=extract, transitions=("end",)),
            Step("end", act=act, end=True),
        ))  # fmt: skip


def test_an_end_step_with_an_exit_is_refused():
    with pytest.raises(FlowDefinitionError, match="end step"):
        Flow("f", "f", "a", steps(
            Step("a", prompt=ask, extract=extract, transitions=("end",)),
            Step("end", act=act, end=True, transitions=("a",)),
        ))  # fmt: skip


def test_a_transition_to_an_unknown_step_is_refused():
    with pytest.raises(FlowDefinitionError, match="unknown"):
        Flow("f", "f", "a", steps(Step("a", prompt=ask, extract=extract, transitions=("zz",))))


def test_an_asking_step_without_an_extractor_is_refused():
    with pytest.raises(FlowDefinitionError, match="extracts nothing"):
        Flow("f", "f", "a", steps(
            Step("a", prompt=ask, transitions=("end",)), Step("end", act=act, end=True)
        ))  # fmt: skip


def test_a_pausing_step_that_does_nothing_is_refused():
    with pytest.raises(FlowDefinitionError, match="pausing"):
        Flow("f", "f", "a", steps(
            Step("a", prompt=ask, extract=extract, transitions=("wait",)),
            Step("wait", pause=True, transitions=("a",)),
        ))  # fmt: skip


def test_a_step_without_a_default_exit_is_refused():
    with pytest.raises(FlowDefinitionError, match="default exit"):
        Flow("f", "f", "a", steps(
            Step("a", prompt=ask, extract=extract, transitions=(Go("end", when=bool),)),
            Step("end", act=act, end=True),
        ))  # fmt: skip


def test_the_first_transition_whose_condition_holds_is_taken():
    step = Step("a", prompt=ask, extract=extract, transitions=(
        Go("b", when=lambda ctx: ctx.slots.get("x") == 1),
        Go("c", when=lambda ctx: "x" in ctx.slots),
        "d",
    ))  # fmt: skip
    today = dt.date(2024, 1, 1)
    assert step.next(FlowContext({"x": 1}, today)) == "b"
    assert step.next(FlowContext({"x": 2}, today)) == "c"
    assert step.next(FlowContext({}, today)) == "d"
