"""The console's figures: today's and the last 7 days' totals, and the geometry of the
7-day bar chart the page draws as inline SVG (server-side: no script, works anywhere).

Each day's bar stacks the questions answered, clarified and handed over to the hotline;
the number above it is their sum."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from flows.storage import DayFigures

MEASURES = (
    "conversations",
    "answers",
    "clarifications",
    "fallbacks",
    "enrollments_started",
    "enrollments_finished",
)
"""The rows of the figures table, in order (catalog ``web.console.figures.<name>``)."""
STACKED = ("answers", "clarifications", "fallbacks")
"""What a day's bar is made of, bottom up (CSS classes ``bar-<name>``)."""

WIDTH, HEIGHT = 420, 200
_TOP, _BOTTOM, _LEFT = 24, 28, 8
_SLOT_GAP = 10


@dataclass(frozen=True)
class Segment:
    kind: str
    y: float
    height: float
    value: int


@dataclass(frozen=True)
class Column:
    label: str
    """The day as MM-DD."""
    day: dt.date
    x: float
    width: float
    total: int
    """Questions that day (answered + clarified + handed over)."""
    conversations: int
    segments: tuple[Segment, ...]
    top: float
    """Where the column's figure is written (above the bar)."""


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    label_y: float
    columns: tuple[Column, ...]


def total(days: list[DayFigures]) -> dict[str, int]:
    """The measures summed over ``days``."""
    return {m: sum(int(getattr(d, m)) for d in days) for m in MEASURES}


def of_day(day: DayFigures) -> dict[str, int]:
    return {f.name: getattr(day, f.name) for f in fields(day) if f.name in MEASURES}


def chart(days: list[DayFigures]) -> Chart:
    """Bars scaled to the busiest day (an empty week draws flat bars, not a division by
    zero)."""
    baseline = HEIGHT - _BOTTOM
    room = baseline - _TOP
    peak = max([sum(getattr(d, k) for k in STACKED) for d in days] + [1])
    slot = (WIDTH - 2 * _LEFT) / max(len(days), 1)
    columns = []
    for index, day in enumerate(days):
        y = baseline
        segments = []
        for kind in STACKED:
            value = int(getattr(day, kind))
            height = room * value / peak
            y -= height
            segments.append(Segment(kind, round(y, 1), round(height, 1), value))
        columns.append(
            Column(
                label=day.day.strftime("%m-%d"),
                day=day.day,
                x=round(_LEFT + index * slot + _SLOT_GAP / 2, 1),
                width=round(slot - _SLOT_GAP, 1),
                total=sum(s.value for s in segments),
                conversations=day.conversations,
                segments=tuple(segments),
                top=round(y - 6, 1),
            )
        )
    return Chart(WIDTH, HEIGHT, baseline, HEIGHT - 10, tuple(columns))
