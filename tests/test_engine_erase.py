"""Erasing data: everything of a user only after a confirmation that says what goes; one
draft on its own; a greeting that shows what hubao can do."""

from __future__ import annotations

import datetime as dt

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, roster_upload, text, upload

TODAY = dt.date(2023, 7, 10)
BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了"]


async def enrolled_to_roster(bot, who, unit: str) -> None:  # type: ignore[no-untyped-def]
    for words in [*BEFORE_ROSTER, unit]:
        await bot.handle(text(who, words))
    name, data = roster_upload({"people": 2})
    await bot.handle(upload(who, name, data))


async def test_erasing_everything_is_confirmed_first_and_can_be_called_off():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await enrolled_to_roster(bot, who, "甲贸易公司")
    asked = await bot.handle(text(who, "删除我的数据"))
    assert "确定删除吗" in joined(asked) and "参保草稿" in joined(asked)
    assert [c.label for r in asked for c in r.choices] == ["确定全部删除", "不删了"]
    kept = joined(await bot.handle(text(who, "不删了")))
    assert "什么都没有删除" in kept
    assert await storage.transcript(who)
    assert "接着上次" in joined(await bot.handle(text(who, "继续参保")))
    await bot.handle(text(who, "/forget"))
    assert "已删除" in joined(await bot.handle(button(who, "cmd:forget")))
    assert await storage.transcript(who) == []


async def test_a_confirmation_pressed_later_erases_nothing():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await bot.handle(text(who, "/forget"))
    await bot.handle(text(who, "忘记密码怎么办"))
    assert "过期" in joined(await bot.handle(button(who, "cmd:forget")))
    assert await storage.transcript(who)


async def test_cancel_points_to_deleting_the_draft_which_keeps_the_conversation():
    storage = MemoryStorage()
    bot, first, second = engine(storage, TODAY), key("u1"), key("u2")
    await enrolled_to_roster(bot, first, "甲贸易公司")
    cancelled = joined(await bot.handle(text(first, "取消")))
    assert "删除草稿" in cancelled and "删除我的数据" not in cancelled
    said = joined(await bot.handle(text(first, "删除草稿")))
    assert "已删除“参保办理”的草稿" in said
    assert await storage.transcript(first)
    assert "接着上次" not in joined(await bot.handle(text(first, "继续参保")))
    # The people it claimed are free: another unit's roster meets no other draft.
    for words in [*BEFORE_ROSTER, "乙贸易公司"]:
        await bot.handle(text(second, words))
    name, data = roster_upload({"people": 2})
    assert "草稿" not in joined(await bot.handle(upload(second, name, data)))


async def test_a_greeting_shows_what_hubao_does_with_the_menu():
    bot, who = engine(MemoryStorage(), TODAY), key()
    replies = await bot.handle(text(who, "你好"))
    said = joined(replies)
    assert "办理参保" in said and "测算保费" in said
    labels = [c.label for r in replies for c in r.choices]
    assert any("参保" in label for label in labels) and any("保费" in label for label in labels)
