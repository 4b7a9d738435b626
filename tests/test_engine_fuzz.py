"""Random and hostile messages, buttons and files through the engine, at a CI-sized count
of benchmarks/fuzz_engine.py (which runs 10,000 and more): no exception, and no reply that
is empty or shows a raw template marker or a Python repr. A failure lists each cause with
the line that replays its conversation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from flows.storage import MemoryStorage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from fuzz_engine import fuzz, summarize

MESSAGES = 600
SEED = 12


async def test_random_and_hostile_messages_never_raise_nor_leak_internals() -> None:
    totals = await fuzz(MemoryStorage(), MESSAGES, SEED)
    assert totals.messages == MESSAGES
    if totals.failures:
        pytest.fail(
            f"{len(totals.exceptions)} exceptions, {len(totals.flagged)} flagged replies in "
            f"{totals.messages} messages (seed {SEED})\n"
            + summarize(totals, SEED, "memory", show=2),
            pytrace=False,
        )
