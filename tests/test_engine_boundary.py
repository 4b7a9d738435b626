"""What any channel hands the engine is read safely: characters no handler types are
dropped before anything is stored, and a fact the rules lack is said, not raised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.storage import MemoryStorage
from flows.storage_factory import open_storage

from helpers import engine, joined, key, text, upload

BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了", "上海测试有限公司"]


async def test_control_characters_and_nul_never_reach_the_transcript(tmp_path: Path):
    storage = await open_storage(None, tmp_path)
    try:
        bot, who = engine(storage, dt.date(2023, 7, 10)), key()
        said = joined(await bot.handle(text(who, "忘记\x00密码\x1b]0;pwned\x07怎么办\u202e")))
        assert "密码" in said
        name = joined(await bot.handle(upload(who, "a\x00b\x1b.xlsx", b"not a workbook")))
        assert "\x00" not in name and "\x1b" not in name
        lines = await storage.transcript(who)
        assert lines and not any(ch in line.text for line in lines for ch in "\x00\x1b\x07\u202e")
    finally:
        await storage.close()


@pytest.mark.parametrize("typed", ["፩", "᧚", "١"])
async def test_digits_of_other_scripts_are_not_read_as_a_choice_number(typed: str):
    bot, who = engine(MemoryStorage(), dt.date(2023, 7, 10)), key()
    await bot.handle(text(who, "我要参保"))
    said = joined(await bot.handle(text(who, typed)))
    assert "参加过集中参保吗" in said  # asked again, nothing picked


async def test_a_draft_resumed_after_its_policy_year_gets_a_clear_message_and_is_kept():
    storage = MemoryStorage()
    who = key()
    bot = engine(storage, dt.date(2024, 6, 20))
    for words in BEFORE_ROSTER:
        await bot.handle(text(who, words))
    later = engine(storage, dt.date(2024, 7, 2))  # no policy year covers this date yet
    said = joined(await later.handle(text(who, "继续参保")))
    assert "2024年7月2日" in said and "12351" in said
    # Nothing was lost: back on a date the year covers, the draft carries on.
    again = engine(storage, dt.date(2024, 6, 21))
    assert "参保名单" in joined(await again.handle(text(who, "继续参保")))
