"""Figures the enrollment states in words come from the quote itself."""

from __future__ import annotations

import datetime as dt

from flows.storage import MemoryStorage

from helpers import button, engine, joined, key, roster_upload, text, upload

TODAY = dt.date(2023, 7, 10)
BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了", "上海测试有限公司"]


async def plans_reply(plans: str) -> str:
    bot, who = engine(MemoryStorage(), TODAY), key()
    for words in BEFORE_ROSTER:
        await bot.handle(text(who, words))
    spec = {"people": 2, "rows": [{"name": "王芳", "born": "1995-03-01", "sex": "女", "si": "否"}]}
    name, data = roster_upload(spec)
    await bot.handle(upload(who, name, data))
    await bot.handle(button(who, "v:done"))
    await bot.handle(text(who, "3"))  # last year's count; the plans are asked next
    return joined(await bot.handle(text(who, plans)))


async def test_what_a_person_without_social_insurance_saves_includes_the_lost_trio_discount():
    said = await plans_reply("A0 B0 C0 A1")
    # 315 for 职保 (A0 B0 C0 A1 less the trio discount of 10), 205 without A0 and discount.
    assert "每人205元，比职保少110元" in said, said
    assert "三个基本项目同时参保的优惠" in said


async def test_without_the_trio_only_a0_is_saved():
    said = await plans_reply("只要A0和B0")
    assert "比职保少120元" in said, said
    assert "同时参保的优惠" not in said
