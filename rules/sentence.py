"""What a rule says, as a catalog key and values: the rule decides, the catalog words it.

Rules return codes and values, never ready Chinese. A ``Sentence`` is such a value: a key
of the text catalog (``rules/data/texts/rules.yaml``) and the values that fill it in; its
``text`` (also ``str()``, so one sentence can fill in another) renders it. Values are
rendered as given, so rules pass figures already formatted (``cn_date``, ``percent``) and
cell echoes already masked. ``CatalogLabels`` is a read-only mapping from codes to the
catalog's labels for them (``people.CATEGORY_LABELS``), rendered when looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

K = TypeVar("K", bound=StrEnum)


def _say(key: str, **values: Any) -> str:
    # Imported when a sentence is rendered, not when the rules are: the catalog reads the
    # policy data, whose module raises the rules' errors (which are sentences), and it
    # brings Jinja2, which a caller that only checks or masks never needs.
    from rules.catalog import say

    return say(key, **values)


@dataclass(frozen=True)
class Sentence:
    """The catalog entry ``key`` with ``values``; hashable when the values are (findings
    holding one stay hashable)."""

    key: str
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, key: str, **values: object) -> Sentence:
        """``Sentence.of("rules.row.bad_si_flag", value="x")``."""
        return cls(key, tuple(values.items()))

    @property
    def text(self) -> str:
        """The sentence as the user reads it."""
        return _say(self.key, **dict(self.values))

    def __str__(self) -> str:
        return self.text


class CatalogLabels(Mapping[K, str]):
    """The labels ``{prefix}.{code}`` of the catalog for the codes ``keys``, by code."""

    def __init__(self, prefix: str, keys: Iterable[K]) -> None:
        self._prefix = prefix
        self._keys = tuple(keys)

    def __getitem__(self, key: K) -> str:
        if key not in self._keys:
            raise KeyError(key)
        return _say(f"{self._prefix}.{key}")

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
