"""What the engine and flows say, kept in ``texts.yaml`` (Jinja2, policy-year variables)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import jinja2

from faq.context import build_context
from rules.datafile import parse_yaml

_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


@cache
def _templates() -> dict[str, jinja2.Template]:
    text = resources.files("flows").joinpath("texts.yaml").read_text(encoding="utf-8")
    return {k: _ENV.from_string(str(v)) for k, v in parse_yaml(text).items()}


@cache
def _context() -> dict[str, Any]:
    return build_context()


def say(key: str, **values: Any) -> str:
    """The text ``key`` with the newest policy year's figures and ``values`` filled in."""
    return _templates()[key].render(**{**_context(), **values}).strip()
