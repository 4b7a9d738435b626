"""The enrollment platform's roster import template as data (``rules/data/platform.yaml``).

The template's column headers and the document types of its 证件类型 dropdown are the
platform's vocabulary: the roster's ``RosterField`` and the ids' ``DocType`` take their
values from here, and a document type also lists the other names handlers write for it.
Like the batch lifecycle, the template does not change with the policy year. Read when
``rules.ids`` is imported, so kept to plain data (no pydantic at import time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from rules.datafile import parse_yaml


@dataclass(frozen=True)
class DocTypeNames:
    label: str
    """As the platform's dropdown writes it."""
    aliases: tuple[str, ...]
    """Other names handlers write for it."""


@dataclass(frozen=True)
class Template:
    columns: dict[str, str]
    """Header by ``RosterField`` member name."""
    doc_types: dict[str, DocTypeNames]
    """Names by ``DocType`` member name, in the dropdown's order."""


@cache
def template() -> Template:
    """The platform's import template."""
    text = resources.files("rules").joinpath("data", "platform.yaml").read_text(encoding="utf-8")
    data = parse_yaml(text)
    return Template(
        columns={str(k): str(v) for k, v in data["columns"].items()},
        doc_types={
            str(k): DocTypeNames(str(v["label"]), tuple(str(a) for a in v["aliases"]))
            for k, v in data["doc_types"].items()
        },
    )
