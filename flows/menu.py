"""The flows hubao offers, in menu order, with the values that start them. Their menu
labels and the words that request them are intents in faq/intents.yaml."""

from __future__ import annotations

from flows.engine import FlowEntry, Shortcut
from flows.enroll import ENROLL, wants_enrollment
from flows.guides import (
    ACCOUNT,
    COVERAGE,
    STATUS,
    asks_about_coverage,
    asks_coverage,
    status_shortcut,
)
from flows.quote_flow import QUOTE, wants_quote


def default_flows() -> list[FlowEntry]:
    return [
        FlowEntry(
            ENROLL, trigger=wants_enrollment, started="enroll_start", finished="enroll_done"
        ),
        FlowEntry(QUOTE, trigger=wants_quote),
        FlowEntry(COVERAGE, trigger=asks_coverage, follow_on=asks_about_coverage),
        FlowEntry(ACCOUNT),
        FlowEntry(STATUS),
    ]


def default_shortcuts() -> list[Shortcut]:
    return [status_shortcut]
