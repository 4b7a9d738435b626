"""Rate limits of the chat API, kept in the process: a sliding window per session and per
client address, one set for messages and a stricter one for uploads. Each process behind a
load balancer counts on its own; the limits only have to stop a runaway script or a flood,
not count exactly. The clock is injectable so tests need not wait."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["message", "upload"]
_SWEEP_EVERY = 1000
"""Hits between sweeps of the windows nobody used lately (memory stays bounded)."""


class Window:
    """At most ``limit`` hits per ``seconds`` for each key (a sliding window)."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._since_sweep = 0

    def wait(self, who: str) -> float:
        """Seconds until ``who`` may hit again; 0 when it may now."""
        hits = self._recent(who)
        if len(hits) < self.limit:
            return 0.0
        return max(hits[len(hits) - self.limit] + self.seconds - self._clock(), 0.001)

    def record(self, who: str) -> None:
        self._recent(who).append(self._clock())
        self._since_sweep += 1
        if self._since_sweep >= _SWEEP_EVERY:
            self._sweep()

    def _recent(self, who: str) -> deque[float]:
        hits = self._hits.setdefault(who, deque())
        oldest = self._clock() - self.seconds
        while hits and hits[0] <= oldest:
            hits.popleft()
        return hits

    def _sweep(self) -> None:
        self._since_sweep = 0
        oldest = self._clock() - self.seconds
        self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > oldest}


@dataclass
class Limits:
    """The chat API's limits; ``admit`` counts a request or says how long to wait."""

    clock: Callable[[], float] = time.monotonic
    messages_per_session: tuple[int, float] = (30, 60.0)
    messages_per_address: tuple[int, float] = (120, 60.0)
    uploads_per_session: tuple[int, float] = (10, 600.0)
    uploads_per_address: tuple[int, float] = (30, 600.0)
    _windows: dict[tuple[Kind, str], Window] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        rules: tuple[tuple[Kind, str, tuple[int, float]], ...] = (
            ("message", "session", self.messages_per_session),
            ("message", "address", self.messages_per_address),
            ("upload", "session", self.uploads_per_session),
            ("upload", "address", self.uploads_per_address),
        )
        for kind, per, (limit, seconds) in rules:
            self._windows[(kind, per)] = Window(limit, seconds, lambda: self.clock())

    def admit(self, kind: Kind, session: str, address: str) -> int:
        """0 when the request may go ahead (and is counted); otherwise the whole seconds to
        wait. A refused request is not counted, so waiting as told is enough."""
        by_session = self._windows[(kind, "session")]
        by_address = self._windows[(kind, "address")]
        wait = max(by_session.wait(session), by_address.wait(address))
        if wait > 0:
            return max(1, math.ceil(wait))
        by_session.record(session)
        by_address.record(address)
        return 0
