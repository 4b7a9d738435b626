"""The text catalog: every sentence hubao shows a user, in ``rules/data/texts/*.yaml``.

One catalog for all layers. Rules return codes and values; whoever shows them to a user
renders the code's sentence here. Entries are Jinja2 templates with the policy year's
figures (``rules.context``) and the caller's values; a key lives in exactly one file
(one file per area: ``flows.yaml``, ``faq.yaml``, ...), so the files can be edited
side by side without clashing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from rules.context import build_context
from rules.datafile import parse_yaml
from rules.errors import NoPolicyData
from rules.policy import PolicyYear, policy_for_enrollment_date

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


class CatalogError(Exception):
    """A catalog file that cannot be used: a key defined twice."""


@cache
def sources() -> dict[str, str]:
    """Each entry's template source, by key, from every catalog file."""
    folder = resources.files("rules").joinpath("data", "texts")
    return load(sorted((i for i in folder.iterdir() if i.name.endswith(".yaml")), key=_name))


def load(files: Iterable[Traversable | Path]) -> dict[str, str]:
    """The entries of ``files``; a key in two files is a mistake, said with both names."""
    found: dict[str, str] = {}
    where: dict[str, str] = {}
    for item in files:
        for key, value in parse_yaml(item.read_text(encoding="utf-8")).items():
            if key in found:
                raise CatalogError(f"{key} is in both {where[key]} and {item.name}")
            found[key], where[key] = str(value), item.name
    return found


def _name(item: Traversable) -> str:
    return item.name


@cache
def _template(key: str) -> jinja2.Template:
    return _ENV.from_string(sources()[key])


_CONTEXTS: dict[int, tuple[PolicyYear | None, dict[str, Any]]] = {}


def _context(policy: PolicyYear | None) -> dict[str, Any]:
    # Keyed by identity: a policy year is an unhashable model, loaded once and kept.
    held = _CONTEXTS.get(id(policy))
    if held is None or held[0] is not policy:
        held = _CONTEXTS[id(policy)] = (policy, build_context(policy))
    return held[1]


def say(key: str, /, *, policy: PolicyYear | None = None, **values: Any) -> str:
    """The sentence ``key`` with ``policy``'s figures (default: the newest policy year)
    and ``values`` filled in."""
    return render(key, _context(policy), **values)


def say_on(day: dt.date, key: str, /, **values: Any) -> str:
    """The sentence ``key`` in the figures of the policy year a unit enrolling on ``day``
    enrolls into: a conversation's own year (the newest where the data has none for it)."""
    try:
        policy: PolicyYear | None = policy_for_enrollment_date(day)
    except NoPolicyData:
        policy = None
    return say(key, policy=policy, **values)


def render(key: str, context: Mapping[str, Any], /, **values: Any) -> str:
    """The sentence ``key`` rendered with a prepared template context (a knowledge base's)."""
    return _template(key).render(**{**context, **values}).strip()
