"""The enrollment platform's roster import template as data (``rules/data/platform.yaml``).

The template's column headers and the document types of its 证件类型 dropdown are the
platform's vocabulary: the roster's ``RosterField`` and the ids' ``DocType`` take their
values from here, and a document type also lists the other names handlers write for it.
Like the batch lifecycle, the template does not change with the policy year.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict

from rules.datafile import parse_yaml


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DocTypeNames(_Frozen):
    label: str
    """As the platform's dropdown writes it."""
    aliases: tuple[str, ...] = ()


class Template(_Frozen):
    columns: dict[str, str]
    """Header by ``RosterField`` member name."""
    doc_types: dict[str, DocTypeNames]
    """Names by ``DocType`` member name, in the dropdown's order."""


@cache
def template() -> Template:
    """The platform's import template."""
    text = resources.files("rules").joinpath("data", "platform.yaml").read_text(encoding="utf-8")
    return Template.model_validate(parse_yaml(text))
