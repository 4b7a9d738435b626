"""Conversation scripts in tests/conversations/*.yaml, run through Engine.handle, the entry
point every channel uses. Each turn's reply must contain every ``expect`` fragment and none
of the ``absent`` ones, and send back the files named in ``files``.

A turn says something (``say``), presses a button (``button``), restarts the bot on the same
storage (``restart``) or uploads a roster (``upload``). An upload lists its people in plain
terms; valid ID numbers are made from the birth date and sex:

    upload:
      file: 名单.xlsx
      people: 5                      # five valid 职保 employees, or a list of rows:
      rows:
        - {name: 王芳, born: 1995-03-01, sex: 女, si: 否}
        - {name: 李四, id: "31010119900101123"}    # an ID number as typed
      raw: "not a workbook"          # or the file's bytes as text
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, roster_upload, text, upload

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
        elif "upload" in turn:
            name, data = roster_upload(turn["upload"])
            message = upload(who, name, data)
        else:
            message = text(who, str(turn["say"]), turn.get("message_id"))
        replies = await bot.handle(message)
        seen = joined(replies)
        said = turn.get("say", turn.get("button", "[上传名单]"))
        where = f"turn {number} ({said!r}) replied:\n{seen}"
        for fragment in turn.get("expect", []):
            assert str(fragment) in seen, where
        for fragment in turn.get("absent", []):
            assert str(fragment) not in seen, where
        if turn.get("silent"):
            assert seen == "", where
        sent = [f.name for r in replies for f in r.files]
        for name in turn.get("files", []):
            assert name in sent, f"{where}\nfiles sent: {sent}"
