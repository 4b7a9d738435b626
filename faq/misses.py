"""Questions the assistant could not answer, grouped for the hotline team to add entries.

They are recorded by the storage port (masked) in the same turn as the answer, tied to the
conversation they were asked in: /forget erases them with it. Grouping masks them once more,
so a list shown to the team never holds a full ID or mobile number, however old the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from faq.normalize import normalize
from rules.privacy import mask_personal_data


@dataclass(frozen=True)
class Miss:
    question: str
    at: dt.datetime


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
        question = mask_personal_data(miss.question)
        key = normalize(question)
        for rep, members in groups:
            if fuzz.ratio(key, rep) >= similarity:
                members.append(question)
                break
        else:
            groups.append((key, [question]))
    result = [
        MissGroup(members[0], len(members), tuple(dict.fromkeys(members))) for _, members in groups
    ]
    return sorted(result, key=lambda g: -g.count)
