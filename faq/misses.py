"""Questions the assistant could not answer, kept for the hotline team to add entries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rapidfuzz import fuzz

from faq.normalize import normalize
from rules.privacy import mask_personal_data


@dataclass(frozen=True)
class Miss:
    question: str
    at: dt.datetime


class MissLog(Protocol):
    def record(self, question: str, at: dt.datetime) -> None: ...

    def since(self, day: dt.date | None = None) -> list[Miss]: ...


class JsonlMissLog:
    """One JSON line per miss; personal data masked before it is written."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, question: str, at: dt.datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = {"q": mask_personal_data(question.strip())[:500], "at": at.isoformat()}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def since(self, day: dt.date | None = None) -> list[Miss]:
        if not self.path.exists():
            return []
        misses = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(raw)
                miss = Miss(str(item["q"]), dt.datetime.fromisoformat(item["at"]))
            except (ValueError, KeyError, TypeError):
                continue  # a torn line from a crash loses one miss, not the log
            if day is None or miss.at.date() >= day:
                misses.append(miss)
        return misses


class MemoryMissLog:
    def __init__(self) -> None:
        self.misses: list[Miss] = []

    def record(self, question: str, at: dt.datetime) -> None:
        self.misses.append(Miss(mask_personal_data(question.strip())[:500], at))

    def since(self, day: dt.date | None = None) -> list[Miss]:
        return [m for m in self.misses if day is None or m.at.date() >= day]


@dataclass(frozen=True)
class MissGroup:
    question: str
    """The first wording seen; the group's representative."""
    count: int
    variants: tuple[str, ...]


def group_misses(misses: Iterable[Miss], similarity: float = 70.0) -> list[MissGroup]:
    """Group similar questions (rapidfuzz ratio), most asked first."""
    groups: list[tuple[str, list[str]]] = []
    for miss in misses:
        key = normalize(miss.question)
        for rep, members in groups:
            if fuzz.ratio(key, rep) >= similarity:
                members.append(miss.question)
                break
        else:
            groups.append((key, [miss.question]))
    result = [
        MissGroup(members[0], len(members), tuple(dict.fromkeys(members))) for _, members in groups
    ]
    return sorted(result, key=lambda g: -g.count)
