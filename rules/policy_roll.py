"""Rolling a policy year forward into a draft of the next (RULES helper fills this in)."""

from __future__ import annotations

from typing import Any

from rules.policy import PolicyYear


def roll_forward(source: PolicyYear, year: int) -> dict[str, Any]:
    """A draft of ``year`` from ``source``: dates moved, figures copied and marked for
    review, ``status: draft``; YAML-ready data (dates as dates, money as strings)."""
    raise NotImplementedError
