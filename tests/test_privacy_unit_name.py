"""A mobile or ID number typed into the unit's name is not kept: the name is asked again."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.storage import MemoryStorage

from helpers import engine, joined, key, text

TODAY = dt.date(2023, 7, 10)
BEFORE_UNIT = ["我要参保", "没有", "今天", "有", "有", "填过了"]
ASKED_AGAIN = "单位名称里不要写手机号或证件号，请只写单位全称。"


@pytest.mark.parametrize(
    "said",
    [
        "上海测试有限公司 157-7370-8775",
        "上海测试有限公司（联系人电话+86 152 9699 4522）",
        "上海测试有限公司ID320102199006247703",
        "单位名称是上海测试有限公司，经办人131 3389 7510",
    ],
)
async def test_a_number_in_the_unit_name_is_refused_and_the_name_asked_again(said: str) -> None:
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    for words in BEFORE_UNIT:
        await bot.handle(text(who, words))
    refused = joined(await bot.handle(text(who, said)))
    assert ASKED_AGAIN in refused and "单位全称" in refused
    accepted = joined(await bot.handle(text(who, "上海测试有限公司")))
    assert "上海测试有限公司" in accepted or "名单" in accepted
    async with storage.turn(who, None) as turn:
        assert turn.state.slots["unit"] == "上海测试有限公司"


async def test_a_correction_of_the_unit_name_with_a_number_is_refused_too() -> None:
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    for words in [*BEFORE_UNIT, "上海测试有限公司"]:
        await bot.handle(text(who, words))
    seen = joined(
        await bot.handle(text(who, "单位名称写错了，应该是上海新测试有限公司13812345678"))
    )
    assert ASKED_AGAIN in seen and "13812345678" not in seen
    async with storage.turn(who, None) as turn:
        assert "13812345678" not in str(turn.state.to_json())
