"""The engine as a user meets it: every test speaks through ``Engine.handle`` on memory
storage and asserts on what the user reads (texts and buttons), never on internals."""

from __future__ import annotations

import datetime as dt

from flows.engine import Engine
from flows.messages import Incoming
from flows.storage import SHANGHAI, ConversationKey, MemoryStorage, Storage

from helpers import button, engine, joined, key, roster_upload, text, upload

TODAY = dt.date(2023, 7, 10)
PLANS_QUESTION = "要测算哪些保障项目"
PEOPLE_QUESTION = "一共几位员工参保"
START_QUESTION = "从哪天起保"


async def say(bot: Engine, message: Incoming) -> str:
    return joined(await bot.handle(message))


async def at_start_question(bot: Engine, who: ConversationKey) -> str:
    """A quote asked for by its button and answered up to its start date."""
    assert PLANS_QUESTION in await say(bot, button(who, "flow:quote"))
    assert PEOPLE_QUESTION in await say(bot, text(who, "A0 B0 C0"))
    return await say(bot, text(who, "8个人"))


async def test_a_message_seen_twice_gets_one_answer():
    bot, who = engine(MemoryStorage(), TODAY), key()
    first = await bot.handle(text(who, "我要测算保费", message_id="m-1"))
    assert PLANS_QUESTION in joined(first)
    assert await bot.handle(text(who, "我要测算保费", message_id="m-1")) == []
    # The conversation did not move: the next answer answers the plans question.
    assert PEOPLE_QUESTION in await say(bot, text(who, "A0 B0 C0", message_id="m-2"))


async def test_a_button_not_offered_is_refused_and_the_question_stands():
    bot, who = engine(MemoryStorage(), TODAY), key()
    assert START_QUESTION in await at_start_question(bot, who)
    refused = await say(bot, button(who, "v:2031-01-01"))
    assert "过期" in refused
    # The start question still waits: an offered date finishes the quote.
    result = await say(bot, text(who, "今天提交"))
    assert "合计" in result and "8人" in result


async def test_back_asks_the_previous_question_again():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await at_start_question(bot, who)
    assert PEOPLE_QUESTION in await say(bot, text(who, "/back"))
    assert START_QUESTION in await say(bot, text(who, "10个人"))
    assert PEOPLE_QUESTION in await say(bot, text(who, "返回上一步"))
    assert PLANS_QUESTION in await say(bot, text(who, "/back"))
    assert "已经是第一步了" in await say(bot, text(who, "/back"))


async def test_cancel_leaves_the_flow_and_shows_the_menu():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await at_start_question(bot, who)
    cancelled = await bot.handle(text(who, "/cancel"))
    assert "已取消当前办理" in joined(cancelled)
    assert "flow:quote" in [c.value for r in cancelled for c in r.choices]
    # Nothing is pending any more: there is no step to go back to.
    assert "没有进行中的办理" in await say(bot, text(who, "/back"))


async def test_a_correction_changes_the_earlier_answer_and_asks_on():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await at_start_question(bot, who)
    corrected = await say(bot, text(who, "不对，是10个人"))
    assert "已改为10人" in corrected and START_QUESTION in corrected
    result = await say(bot, text(who, "今天提交"))
    assert "10人" in result and "8人" not in result


async def test_a_knowledge_base_question_mid_flow_returns_to_the_question():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await at_start_question(bot, who)
    aside = await say(bot, text(who, "忘记密码怎么办"))
    assert "密码" in aside
    assert "回到刚才的问题：" + "从哪天起保" in aside
    # The flow goes on where it was.
    assert "合计" in await say(bot, text(who, "今天提交"))


async def test_forget_needs_confirmation_and_can_be_declined():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await at_start_question(bot, who)
    asked = await bot.handle(text(who, "删除我的数据"))
    assert "确定删除吗" in joined(asked)
    assert [c.value for r in asked for c in r.choices] == ["cmd:forget", "cmd:keep"]
    kept = await say(bot, button(who, "cmd:keep"))
    assert "什么都没有删除" in kept and START_QUESTION in kept
    # Pressing the erase button now, without a fresh offer, erases nothing.
    assert "过期" in await say(bot, button(who, "cmd:forget"))
    assert "合计" in await say(bot, text(who, "今天提交"))


async def test_forget_confirmed_erases_the_conversation():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await at_start_question(bot, who)
    await bot.handle(text(who, "/forget"))
    assert "已删除您在这里的全部对话记录" in await say(bot, button(who, "cmd:forget"))
    # The quote is gone: a date is no longer the answer to a pending question.
    assert "合计" not in await say(bot, text(who, "今天提交"))


async def enrollment_figures(storage: Storage) -> tuple[int, int]:
    """(started, finished) around today: turns are dated by the real clock."""
    today = dt.datetime.now(SHANGHAI).date()
    days = await storage.figures(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    return sum(d.enrollments_started for d in days), sum(d.enrollments_finished for d in days)


async def test_a_whole_enrollment_counts_one_start_and_one_finish(storage: Storage):
    """Leaving the draft and resuming it, and the summary asked for again, count nothing
    more; a second unit's enrollment left unfinished counts a start only. Every backend
    gives the same figures."""
    bot, who, other = engine(storage, TODAY), key("u1"), key("u2")
    for words in ["我要参保", "没有", "今天", "有", "有", "填过了", "上海测试有限公司"]:
        await bot.handle(text(who, words))
    assert "进度已保存" in await say(bot, text(who, "/cancel"))
    assert "接着上次的" in await say(bot, text(who, "继续参保"))
    await bot.handle(upload(who, *roster_upload({"people": 3})))
    await bot.handle(button(who, "v:done"))
    await bot.handle(text(who, "3"))
    assert "合计：540元" in await say(bot, text(who, "A0 B0 C0"))
    assert "合计：540元" in await say(bot, text(who, "汇总没收到"))
    await bot.handle(text(other, "我要参保"))
    assert await enrollment_figures(storage) == (2, 1)
