"""The flows hubao offers, in menu order, with the phrases that start them."""

from __future__ import annotations

from flows.engine import FlowEntry, Shortcut
from flows.enroll import ENROLL, wants_enrollment
from flows.guides import ACCOUNT, COVERAGE, STATUS, asks_coverage, status_shortcut
from flows.quote_flow import QUOTE, wants_quote
from flows.texts import say


def default_flows() -> list[FlowEntry]:
    return [
        FlowEntry(ENROLL, trigger=wants_enrollment, menu_label=say("enroll_menu")),
        FlowEntry(QUOTE, trigger=wants_quote, menu_label=say("quote_menu")),
        FlowEntry(COVERAGE, trigger=asks_coverage, menu_label=say("coverage_menu")),
        FlowEntry(ACCOUNT, menu_label=say("account_menu")),
        FlowEntry(STATUS, menu_label=say("status_menu")),
    ]


def default_shortcuts() -> list[Shortcut]:
    return [status_shortcut]
