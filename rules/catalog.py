"""The text catalog: every sentence hubao shows a user, in ``rules/data/texts/*.yaml``.

One catalog for all layers. Rules return codes and values; whoever shows them to a user
renders the code's sentence here. Entries are Jinja2 templates with the policy year's
figures (``rules.context``) and the caller's values; a key lives in exactly one file
(one file per area: ``flows.yaml``, ``faq.yaml``, ...), so the files can be edited
side by side without clashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from rules.context import build_context
from rules.datafile import parse_yaml
from rules.policy import PolicyYear

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


class CatalogError(Exception):
    """A catalog file that cannot be used: a key defined twice."""


@cache
def sources() -> dict[str, str]:
    """Each entry's template source, by key, from every catalog file."""
    found: dict[str, str] = {}
    where: dict[str, str] = {}
    folder = resources.files("rules").joinpath("data", "texts")
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if not item.name.endswith(".yaml"):
            continue
        for key, value in parse_yaml(item.read_text(encoding="utf-8")).items():
            if key in found:
                raise CatalogError(f"{key} is in both {where[key]} and {item.name}")
            found[key], where[key] = str(value), item.name
    return found


@cache
def _template(key: str) -> jinja2.Template:
    return _ENV.from_string(sources()[key])


@cache
def _context(policy: PolicyYear | None) -> dict[str, Any]:
    return build_context(policy)


def say(key: str, *, policy: PolicyYear | None = None, **values: Any) -> str:
    """The sentence ``key`` with ``policy``'s figures (default: the newest policy year)
    and ``values`` filled in."""
    return render(key, _context(policy), **values)


def render(key: str, context: Mapping[str, Any], **values: Any) -> str:
    """The sentence ``key`` rendered with a prepared template context (a knowledge base's)."""
    return _template(key).render(**{**context, **values}).strip()
