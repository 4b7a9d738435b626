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
    latest: dt.datetime
    """When a question of the group was last asked: the console lists the newest first."""


def group_misses(misses: Iterable[Miss], similarity: float = 70.0) -> list[MissGroup]:
    """Group similar questions (rapidfuzz ratio), most asked first."""
    groups: list[tuple[str, list[Miss]]] = []
    for miss in misses:
        masked = Miss(mask_personal_data(miss.question), miss.at)
        key = normalize(masked.question)
        for rep, members in groups:
            if fuzz.ratio(key, rep) >= similarity:
                members.append(masked)
                break
        else:
            groups.append((key, [masked]))
    result = [
        MissGroup(
            members[0].question,
            len(members),
            tuple(dict.fromkeys(m.question for m in members)),
            max(_aware(m.at) for m in members),
        )
        for _, members in groups
    ]
    return sorted(result, key=lambda g: -g.count)


def newest_first(groups: Iterable[MissGroup]) -> list[MissGroup]:
    """The groups asked most recently first (the most asked first among equals)."""
    return sorted(groups, key=lambda g: (g.latest, g.count), reverse=True)


def _aware(at: dt.datetime) -> dt.datetime:
    # A database may hand back naive UTC times; they must compare with aware ones.
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
