"""The knowledge base: entries in human-editable YAML files under ``faq/data``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faq.normalize import LEXICON_FILE, lexicon
from rules.context import build_context
from rules.datafile import parse_yaml

SMALLTALK_FILE = "smalltalk.yaml"
INTENTS_FILE = "intents.yaml"
ELSEWHERE_FILE = "elsewhere.yaml"


class Entry(BaseModel):
    """One topic: a canonical question, the ways handlers ask it, and the answer template."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    question: str = Field(min_length=2)
    alternates: tuple[str, ...] = ()
    answer: str = Field(min_length=2)
    related: tuple[str, ...] = ()
    source: str = ""
    kind: Literal["business", "smalltalk", "intent"] = "business"
    topic: str = ""
    flow: str = ""
    """For an intent: the guided flow a request like this starts."""

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


class KnowledgeBaseError(Exception):
    """A knowledge-base file that cannot be used; names the file and the problem."""


_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


@dataclass(frozen=True)
class Elsewhere:
    """Another agency's business: what it is about, where to ask, how to recognize it."""

    topic: str
    place: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    synonyms: Mapping[str, str]
    """Variant -> canonical term, longest variant first."""
    scaffolding: tuple[str, ...]
    """Words of question scaffolding that say nothing about the topic."""
    context: Mapping[str, Any]
    elsewhere: tuple[Elsewhere, ...] = ()
    """Other agencies' business, answered with where to ask instead."""
    program: re.Pattern[str] = re.compile("$^")
    """Words of the program's own business: a question with one is never sent elsewhere."""

    def elsewhere_for(self, question: str) -> Elsewhere | None:
        """The place a question of another agency's business belongs to, if it is one.
        ``question`` is normalized text (faq.normalize.normalize)."""
        if self.program.search(question):
            return None
        return next((e for e in self.elsewhere if e.pattern.search(question)), None)

    @cached_property
    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}

    @property
    def business(self) -> Iterator[Entry]:
        return (e for e in self.entries if e.kind == "business")

    @cached_property
    def intents(self) -> dict[str, Entry]:
        """Requests to do something, by the flow they start; the question is the menu label."""
        return {e.flow: e for e in self.entries if e.kind == "intent"}

    def render(self, entry: Entry) -> str:
        """The answer a user reads, with the policy-year figures filled in."""
        return _ENV.from_string(entry.answer).render(**self.context).strip()

    @cached_property
    def rendered(self) -> dict[str, str]:
        return {e.id: self.render(e) for e in self.entries}


def _read_yaml(file: Traversable | Path) -> Any:
    return _parsed(file.name, lambda: parse_yaml(file.read_text(encoding="utf-8")))


def _parsed(name: str, read: Callable[[], Any]) -> Any:
    """What ``read`` parses from the file ``name``; a YAML error names the file."""
    try:
        return read()
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{name}: not valid YAML: {exc}") from None


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


def _intents_from(file: Traversable | Path) -> list[Entry]:
    """Each flow's menu label and example requests, as entries the matcher ranks too."""
    entries = []
    for i, raw in enumerate(_read_yaml(file) or []):
        try:
            flow, label, examples = raw["flow"], raw["label"], tuple(raw["examples"])
            entries.append(
                Entry(id=f"intent_{flow}", question=label, alternates=examples, answer=label,
                      kind="intent", topic="intents", flow=flow)
            )  # fmt: skip
        except (KeyError, TypeError, ValidationError) as exc:
            raise KnowledgeBaseError(f"{file.name} intent {i + 1}: {exc}") from None
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
    entries.extend(_intents_from(package.joinpath(INTENTS_FILE)))
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise KnowledgeBaseError(f"entry id {entry.id} is used twice")
        seen.add(entry.id)
    vocabulary = _parsed(LEXICON_FILE, lexicon)
    synonyms = {
        str(variant): str(canonical)
        for canonical, variants in vocabulary["synonyms"].items()
        for variant in variants
    }
    return KnowledgeBase(
        entries=tuple(entries),
        synonyms=dict(sorted(synonyms.items(), key=lambda kv: -len(kv[0]))),
        scaffolding=tuple(sorted(map(str, vocabulary["scaffolding"]), key=len, reverse=True)),
        context=build_context(),
        **_elsewhere_from(package.joinpath(ELSEWHERE_FILE)),
    )


def _elsewhere_from(file: Traversable | Path) -> dict[str, Any]:
    """The places of other agencies' business and the program's own words, compiled."""
    data = _read_yaml(file) or {}
    try:
        program = re.compile(re.sub(r"\s+", "", str(data.get("program") or "$^")))
        places = tuple(
            Elsewhere(
                topic=str(raw["topic"]),
                place=str(raw["place"]),
                pattern=re.compile("|".join(f"(?:{p})" for p in raw["patterns"])),
            )
            for raw in data.get("places") or ()
        )
    except (KeyError, TypeError, re.error) as exc:
        raise KnowledgeBaseError(f"{file.name}: {exc}") from None
    return {"elsewhere": places, "program": program}
