"""Catalog sentences in the figures of a given policy year, for the flows and the engine.

``rules.catalog.say`` caches its template context by the ``PolicyYear`` itself, which
pydantic cannot hash (the year's plans and prices are dicts), so a policy passed to it
fails. Here the context is cached by the year's number instead and the sentence rendered
with ``rules.catalog.render``; ``policy=None`` is the newest year, as with ``say``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from rules.catalog import render
from rules.context import build_context
from rules.policy import PolicyYear, policy_years


@cache
def _context(year: int | None) -> dict[str, Any]:
    policy = next((p for p in policy_years() if p.year == year), None)
    return build_context(policy)


def say_in(key: str, policy: PolicyYear | None, **values: Any) -> str:
    """The sentence ``key`` with ``policy``'s figures (the newest year's when None)."""
    return render(key, _context(policy.year if policy is not None else None), **values)
