"""A status question in chat carries the fact that status decides."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.storage import MemoryStorage

from helpers import engine, joined, key, text


@pytest.mark.parametrize(
    ("asked", "fact"),
    [
        ("状态已经是缴费凭证待审核了，还能改名单吗", "锁定"),
        ("凭证已经传了，还能加人吗", "即时参保"),
        ("参保成功了还能加人吗", "即时参保"),
    ],
)
async def test_a_status_question_in_chat_says_what_the_status_allows(asked: str, fact: str):
    bot, who = engine(MemoryStorage(), dt.date(2023, 7, 10)), key()
    said = joined(await bot.handle(text(who, asked)))
    assert fact in said, said
