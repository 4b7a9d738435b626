"""Conversation scripts in tests/conversations/*.yaml, run through Engine.handle, the entry
point every channel uses. Each turn's reply must contain every ``expect`` fragment and none
of the ``absent`` ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, text

SCRIPTS = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))


def cases() -> list[Any]:
    out = []
    for path in SCRIPTS:
        for script in yaml.safe_load(path.read_text(encoding="utf-8")):
            out.append(pytest.param(script, id=f"{path.stem}: {script['name']}"))
    return out


@pytest.mark.parametrize("script", cases())
async def test_conversation(script: dict[str, Any]) -> None:
    today = dt.date.fromisoformat(str(script.get("today", "2023-07-10")))
    storage = MemoryStorage()
    bot = engine(storage, today)
    for number, turn in enumerate(script["turns"], 1):
        who = key(turn.get("user_id", "u1"))
        if turn.get("restart"):
            bot = engine(storage, today)  # a new engine on the same storage
            continue
        if "button" in turn:
            message = button(who, turn["button"])
        else:
            message = text(who, str(turn["say"]), turn.get("message_id"))
        seen = joined(await bot.handle(message))
        where = f"turn {number} ({turn.get('say', turn.get('button'))!r}) replied:\n{seen}"
        for fragment in turn.get("expect", []):
            assert str(fragment) in seen, where
        for fragment in turn.get("absent", []):
            assert str(fragment) not in seen, where
        if turn.get("silent"):
            assert seen == "", where
