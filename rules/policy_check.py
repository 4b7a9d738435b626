"""Checking a policy year before it is published (RULES helper fills this in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.sentence import Sentence


def check_year(data: Mapping[str, Any]) -> list[Sentence]:
    """Every problem of a year's data (as read from its YAML file), each a catalog sentence
    that explains it in Chinese; empty when the year can be published."""
    raise NotImplementedError
