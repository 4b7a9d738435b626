"""Text normalization for matching short Chinese questions.

A question is read as the program's words whatever the input method made of it: full-width
forms half-width, traditional characters simplified, homophone slips put right ("宝费" ->
"保费"), plan codes joined, punctuation dropped. The spelling tables are data in
``faq/lexicon.yaml`` (read once, on first use); the jargon ``Canonicalizer`` is here too."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rules.datafile import parse_yaml

LEXICON_FILE = "lexicon.yaml"


@cache
def lexicon() -> dict[str, Any]:
    """The vocabulary file ``faq/lexicon.yaml`` (jargon, scaffolding, spelling, the lint's
    words), read once."""
    text = resources.files("faq").joinpath(LEXICON_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = parse_yaml(text)
    return data


@dataclass(frozen=True)
class _Spelling:
    traditional: dict[int, str]
    """Traditional character -> simplified, for ``str.translate``."""
    typos: dict[str, str]
    """Homophone slip -> the program's word."""
    pattern: re.Pattern[str]
    """Any slip, longest first."""


@cache
def _spelling() -> _Spelling:
    words = lexicon()
    traditional = {ord(pair[0]): pair[1] for pair in map(str, words["traditional"])}
    typos = {str(slip): str(right) for right, slips in words["typos"].items() for slip in slips}
    pattern = re.compile("|".join(map(re.escape, sorted(typos, key=len, reverse=True))))
    return _Spelling(traditional, typos, pattern)


def fix_typos(text: str) -> str:
    """The program's words where an input method gave a homophone ("其保" -> "起保")."""
    spelling = _spelling()
    return spelling.pattern.sub(lambda m: spelling.typos[m.group(0)], text)


_PLAN_CODE = re.compile(r"(?<![a-z])([abc])\s*([0-3])(?!\d)")
_NON_WORD = re.compile(r"[^\w@.%]+|_")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Half-width, simplified, lowercase, plan codes joined ("a 0" -> "a0"), punctuation
    turned into single spaces."""
    text = fix_typos(
        unicodedata.normalize("NFKC", text).translate(_spelling().traditional)
    ).lower()
    text = _PLAN_CODE.sub(r"\1\2", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


class Canonicalizer:
    """Maps jargon variants to canonical terms in one left-to-right pass, longest first,
    so a canonical term is never rewritten again ("项目" inside "保障项目")."""

    def __init__(self, synonyms: Mapping[str, str]) -> None:
        table = {canonical: canonical for canonical in synonyms.values()}
        table.update(synonyms)
        self._table = table
        keys = sorted(table, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, keys)) or "$^")

    def __call__(self, text: str) -> str:
        return self._pattern.sub(lambda m: self._table[m.group(0)], text)
