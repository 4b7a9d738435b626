"""The knowledge base: entries in human-editable YAML files under ``faq/data``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faq.context import build_context

LEXICON_FILE = "lexicon.yaml"
SMALLTALK_FILE = "smalltalk.yaml"


class Entry(BaseModel):
    """One topic: a canonical question, the ways handlers ask it, and the answer template."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    question: str = Field(min_length=2)
    alternates: tuple[str, ...] = ()
    answer: str = Field(min_length=2)
    related: tuple[str, ...] = ()
    source: str = ""
    kind: Literal["business", "smalltalk"] = "business"
    topic: str = ""

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


class KnowledgeBaseError(Exception):
    """A knowledge-base file that cannot be used; names the file and the problem."""


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    synonyms: Mapping[str, str]
    """Variant -> canonical term, longest variant first."""
    scaffolding: tuple[str, ...]
    """Words of question scaffolding that say nothing about the topic."""
    context: Mapping[str, Any]
    elsewhere: tuple[str, ...] = ()
    """Patterns of other agencies' business, answered with "ask there"."""

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    @property
    def business(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.kind == "business")

    def render(self, entry: Entry) -> str:
        """The answer a user reads, with the policy-year figures filled in."""
        return _ENV.from_string(entry.answer).render(**self.context).strip()

    @cached_property
    def rendered(self) -> dict[str, str]:
        return {e.id: self.render(e) for e in self.entries}


def _read_yaml(file: Traversable | Path) -> Any:
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{file.name}: not valid YAML: {exc}") from None


def default_data_dir() -> Traversable:
    return resources.files("faq").joinpath("data")


def _entries_from(file: Traversable | Path, kind: str) -> list[Entry]:
    entries = []
    for i, raw in enumerate(_read_yaml(file) or []):
        try:
            entries.append(Entry.model_validate({"kind": kind, "topic": file.name[:-5], **raw}))
        except (ValidationError, TypeError) as exc:
            raise KnowledgeBaseError(f"{file.name} entry {i + 1}: {exc}") from None
    return entries


def load_kb(data_dir: Traversable | Path | None = None) -> KnowledgeBase:
    """Load and validate the entry files, the lexicon and the small talk."""
    package = resources.files("faq")
    folder = data_dir if data_dir is not None else default_data_dir()
    entries: list[Entry] = []
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if file.name.endswith(".yaml"):
            entries.extend(_entries_from(file, "business"))
    entries.extend(_entries_from(package.joinpath(SMALLTALK_FILE), "smalltalk"))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeBaseError(f"entry id {entry.id} is used twice")
        seen.add(entry.id)
    lexicon = _read_yaml(package.joinpath(LEXICON_FILE))
    synonyms = {
        str(variant): str(canonical)
        for canonical, variants in lexicon["synonyms"].items()
        for variant in variants
    }
    return KnowledgeBase(
        entries=tuple(entries),
        synonyms=dict(sorted(synonyms.items(), key=lambda kv: -len(kv[0]))),
        scaffolding=tuple(sorted(map(str, lexicon["scaffolding"]), key=len, reverse=True)),
        context=build_context(),
        elsewhere=tuple(str(p) for p in lexicon.get("elsewhere") or ()),
    )
