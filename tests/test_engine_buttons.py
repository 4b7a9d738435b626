"""A button press counts only as hubao offered it: a forged or old value never erases
data or answers a question it was not offered for."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, text

TODAY = dt.date(2023, 7, 10)


@pytest.mark.parametrize(
    "value",
    ["cmd:forget", "cmd:restart", "cmd:cancel", "cmd:nope", "v:done", "redo:quote:people",
     "faq:no-such-entry", "flow:no-such-flow", "", ":", "v:", "x" * 5000],
)  # fmt: skip
async def test_a_forged_button_keeps_the_draft_and_says_the_button_is_stale(value: str):
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    for words in ["我要参保", "没有", "今天", "有", "有", "填过了"]:
        await bot.handle(text(who, words))
    said = joined(await bot.handle(button(who, value)))
    assert "过期" in said
    # The enrollment is still at the unit-name question.
    after = joined(await bot.handle(text(who, "上海测试有限公司")))
    assert "参保名单" in after


async def test_offered_buttons_and_old_menu_buttons_still_work():
    bot, who = engine(MemoryStorage(), TODAY), key()
    said = joined(await bot.handle(text(who, "我要参保")))
    assert "参加过集中参保吗" in said
    # The menu from the welcome message, pressed later, starts a quote.
    quote = joined(await bot.handle(button(who, "flow:quote")))
    assert "过期" not in quote
