"""Slot values from free Chinese text: plan codes and plan edits, head counts, dates with
their role, yes/no, and the words that mark a correction.

Every parser is a pure function of the text (and today's date where a date is read): it
returns the value, None when the text says nothing about its slot, or raises ``Invalid``
with the reason, so one message can be offered to all of a form's parsers and fill whatever
it mentions. Parsers never guess: a value is read only when the words say it. The modules:
``words`` (normalizing, numbers, questions, corrections, yes/no), ``plans``, ``counts``,
``dates``.
"""

from flows.extract.counts import (
    VAGUE_COUNT,
    HeadCount,
    extract_count,
    extract_head_count,
)
from flows.extract.dates import (
    DateMention,
    DateRole,
    Span,
    extract_date,
    find_date,
    find_dates,
    mention_within,
    mentions_date,
    policy_span,
)
from flows.extract.plans import PlanEdit, extract_plan_edit, extract_plans, plan_mentions
from flows.extract.words import (
    CORRECTION,
    QUESTION,
    RULE_QUESTION,
    cn_int,
    extract_choice,
    extract_yes_no,
    normalize_text,
    retracts,
    strip_correction,
)

__all__ = [
    "CORRECTION",
    "QUESTION",
    "RULE_QUESTION",
    "VAGUE_COUNT",
    "DateMention",
    "DateRole",
    "HeadCount",
    "PlanEdit",
    "Span",
    "cn_int",
    "extract_choice",
    "extract_count",
    "extract_date",
    "extract_head_count",
    "extract_plan_edit",
    "extract_plans",
    "extract_yes_no",
    "find_date",
    "find_dates",
    "mention_within",
    "mentions_date",
    "normalize_text",
    "plan_mentions",
    "policy_span",
    "retracts",
    "strip_correction",
]
