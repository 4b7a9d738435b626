"""The Telegram channel at its real boundary: the real python-telegram-bot Application and the
real aiogram Dispatcher talk HTTP to a fake Bot API server on 127.0.0.1. Every test runs on
both libraries; what a user sees is compared with what the engine says to the same messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fake_bot_api import TOKEN, FakeBotApi, post_update

from bot.telegram.channel import command_menu
from bot.telegram.cli import bot_factory
from bot.telegram.config import ChannelStartError, TelegramConfig
from bot.telegram.webhook import TelegramBot
from flows.engine import FlowEntry
from flows.messages import Choice, Incoming, OutgoingFile, Reply
from flows.storage import ConversationKey, MemoryStorage, Storage
from rules.catalog import say

from helpers import engine, roster_upload

LIBRARIES = ["ptb", "aiogram"]
SECRET = "s3cret-Token_1"
WEBHOOK = {
    "HUBAO_WEBHOOK_URL": "https://hubao.example.cn/telegram/hook",
    "HUBAO_WEBHOOK_SECRET": SECRET,
    "HUBAO_WEBHOOK_HOST": "127.0.0.1",
    "HUBAO_WEBHOOK_PORT": "0",
}
ADMIN = 777
Turn = tuple[str, str]
"""("say", text) or ("press", button value)."""

QUOTE: list[Turn] = [
    ("say", "/quote"),
    ("press", "v:A0 B0 C0"),
    ("say", "8个人"),
    ("press", "v:2023-07-11"),
]


@asynccontextmanager
async def running(
    library: str,
    env: dict[str, str] | None = None,
    storage: Storage | None = None,
    api: FakeBotApi | None = None,
    flows: Sequence[FlowEntry] = (),
    **config: Any,
) -> AsyncIterator[tuple[FakeBotApi, TelegramBot]]:
    """A bot on ``library`` against a fake Bot API (a new one unless ``api`` is given)."""
    async with _server(api) as server:
        settings = TelegramConfig.from_env(
            {
                "HUBAO_TELEGRAM_TOKEN": TOKEN,
                "HUBAO_TELEGRAM_API_BASE": server.base_url,
                "HUBAO_ADMIN_IDS": str(ADMIN),
                **(env or {}),
            }
        )
        storage = storage or MemoryStorage()
        eng = engine(storage)
        eng = dataclasses.replace(eng, flows=[*eng.flows, *flows]) if flows else eng
        bot = bot_factory(library)(eng, storage, dataclasses.replace(settings, **config))
        await bot.start()
        try:
            yield server, bot
        finally:
            await bot.stop()


@asynccontextmanager
async def _server(api: FakeBotApi | None) -> AsyncIterator[FakeBotApi]:
    if api is not None:
        yield api
        return
    async with FakeBotApi() as server:
        yield server


async def reference(steps: Sequence[Turn]) -> list[list[str]]:
    """What the engine answers to ``steps``: the texts of each turn."""
    eng = engine(MemoryStorage())
    k = ConversationKey("telegram", "1", "1")
    turns = []
    for kind, value in steps:
        message = Incoming(k, text=value) if kind == "say" else Incoming(k, button=value)
        turns.append(
            [r.text.strip() or say("bot.telegram.choose") for r in await eng.handle(message)]
        )
    return turns


async def converse(api: FakeBotApi, chat: int, steps: Sequence[Turn]) -> list[list[str]]:
    """Send ``steps`` one after the other as the user would, pressing only offered buttons;
    the texts each step got, checked against what the engine says."""
    expected = await reference(steps)
    seen = len(api.texts(chat))
    got = []
    for (kind, value), texts in zip(steps, expected, strict=True):
        if kind == "press":
            assert value in [data for _, data in api.last_buttons(chat)]
            api.press(chat, value)
        else:
            api.message(chat, value)
        all_texts = await api.wait_for_texts(chat, seen + len(texts))
        got.append(all_texts[seen:])
        seen += len(texts)
    assert got == expected
    return got


async def settle(api: FakeBotApi, chat: int) -> list[str]:
    """Everything the chat got before the answer to a last message (answered after all
    earlier ones, since a chat's turns are in order)."""
    help_text = say("help")
    before = api.texts(chat).count(help_text)
    api.message(chat, "/help")
    try:
        await api.wait_for(lambda: api.texts(chat).count(help_text) > before)
    except TimeoutError:
        raise AssertionError(f"no answer to /help: {api.texts(chat)}") from None
    texts = api.texts(chat)
    # In a flow, /help is followed by the pending question again: cut at the help text.
    return texts[: len(texts) - texts[::-1].index(help_text) - 1]


# --- what a user sees ----------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
async def test_start_shows_the_menu_as_buttons_and_commands_are_registered(library):
    async with running(library) as (api, _):
        api.message(1, "/start")
        texts = await api.wait_for_texts(1, 1)
        assert texts == [say("welcome")]
        assert [d for _, d in api.last_buttons(1)][:3] == [
            "flow:enroll",
            "flow:quote",
            "flow:coverage",
        ]
        assert api.sent(1)[0].params["parse_mode"] == "HTML"
        (commands,) = [c.params["commands"] for c in api.called("setMyCommands")]
        assert [(c["command"], c["description"]) for c in commands] == list(command_menu())


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_knowledge_base_question_gets_the_engine_answer(library):
    async with running(library) as (api, _):
        [[answer]] = await converse(api, 1, [("say", "A0多少钱")])
        assert "120元" in answer or "12351" in answer


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_quote_with_button_presses_ends_with_the_total(library):
    async with running(library) as (api, _):
        turns = await converse(api, 1, QUOTE)
        assert "合计：1440元" in turns[-1][0]
        assert len(api.called("answerCallbackQuery")) == 2


@pytest.mark.parametrize("library", LIBRARIES)
async def test_two_chats_interleaved_each_get_their_own_answers_in_order(library):
    other: list[Turn] = [("say", "/quote"), ("say", "B0 C0"), ("say", "3个人"),
                         ("press", "v:2023-07-11"), ("say", "/cancel")]  # fmt: skip
    async with running(library) as (api, _):
        for a, b in zip([*QUOTE, ("say", "/start")], other, strict=True):
            for chat, (kind, value) in ((11, a), (22, b)):
                if kind == "press":
                    api.press(chat, value)
                else:
                    api.message(chat, value)
        for chat, steps in ((11, [*QUOTE, ("say", "/start")]), (22, other)):
            expected = [t for turn in await reference(steps) for t in turn]
            assert await api.wait_for_texts(chat, len(expected)) == expected
        assert "合计：1440元" in api.texts(11)[-2]
        assert "合计：" in api.texts(22)[-2]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_user_text_and_long_replies_reach_telegram_escaped_and_split(library):
    async with running(library) as (api, bot):
        tricky = "<b>不是标签</b> & 1<2 " + "甲" * 5000
        await bot.channel.send_replies(5, [Reply(tricky, (Choice("好", "cmd:start"),))])
        sent = api.sent(5)
        assert len(sent) == 2  # Telegram refuses bad HTML and texts over 4096 characters
        assert "\n".join(c.text for c in sent).replace("\n", "") == tricky
        assert sent[-1].buttons == [("好", "cmd:start")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_choice_value_over_64_bytes_is_sent_as_its_number(library):
    async with running(library) as (api, bot):
        long_value = "v:" + "很长的取值" * 10
        reply = Reply("选一个", (Choice("甲", "cmd:start"), Choice("乙", long_value)))
        await bot.channel.send_replies(6, [reply])
        assert api.last_buttons(6) == [("甲", "cmd:start"), ("乙", "2")]


# --- files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_document_within_the_cap_is_downloaded_and_answered(library):
    async with running(library) as (api, _):
        api.document(1, "名单.xlsx", b"PK\x03\x04 roster")
        [text] = await api.wait_for_texts(1, 1)
        assert text == say("file_outside_flow")
        assert len(api.called("getFile")) == 1
        assert api.downloads == ["documents/file1_名单.xlsx"]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_document_over_the_cap_is_refused_without_downloading(library):
    async with running(library) as (api, _):
        api.document(1, "大名单.xlsx", b"PK", size=15 * 1024 * 1024)
        [text] = await api.wait_for_texts(1, 1)
        assert "文件太大了（15.0 MB）" in text and "10 MB" in text
        assert api.called("getFile") == [] and api.downloads == []


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_document_whose_real_size_is_over_the_cap_is_not_downloaded(library):
    async with running(library, env={"HUBAO_MAX_UPLOAD_MB": "1"}) as (api, _):
        update = api.document_update(1, "名单.xlsx", b"x" * (2 * 1024 * 1024))
        del update["message"]["document"]["file_size"]  # the message may leave it out
        api.push(update)
        [text] = await api.wait_for_texts(1, 1)  # getFile tells the size
        assert "文件太大了（2.0 MB）" in text and "最多能收 1 MB" in text
        assert len(api.called("getFile")) == 1 and api.downloads == []


ENROLL_TO_ROSTER = ["/enroll", "没有", "今天", "有", "有", "填过了", "上海测试有限公司"]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_roster_sent_while_enrolling_is_checked_and_the_annotated_file_returned(library):
    async with running(library) as (api, _):
        for words in ENROLL_TO_ROSTER:
            api.message(1, words)
        assert "Excel" in (await settle(api, 1))[-1]
        name, data = roster_upload({"file": "名单.xlsx", "people": 3, "rows": [{"id": "3101"}]})
        api.document(1, name, data)
        await api.wait_for(lambda: bool(api.called("sendDocument", 1)))
        (document,) = api.called("sendDocument", 1)
        annotated, workbook = document.files["document"]
        assert annotated == "名单_检查结果.xlsx" and workbook.startswith(b"PK")
        texts = await settle(api, 1)
        assert any("共4行，可以参保3人，有错误1行" in t for t in texts)
        assert any("第5行" in t and "删除第5行" in t for t in texts)


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_big_roster_shows_its_progress_in_one_edited_message(library):
    async with running(library) as (api, _):
        for words in ENROLL_TO_ROSTER:
            api.message(1, words)
        await settle(api, 1)
        api.document(1, *roster_upload({"people": 1500}))
        texts = await settle(api, 1)
        progress = [t for t in texts if t.startswith("正在检查名单")]
        assert len(progress) == 1  # sent once, then edited in place
        assert any("共1500行，可以参保1500人" in t for t in texts)
        assert texts.index(progress[0]) < next(i for i, t in enumerate(texts) if "共1500行" in t)


@pytest.mark.parametrize("library", LIBRARIES)
async def test_files_from_hubao_are_sent_as_documents_with_a_caption(library):
    async with running(library) as (api, bot):
        file = OutgoingFile("out/参保名单模板.xlsx", b"PK\x03\x04 template", "模板 <第1版>")
        await bot.channel.send_replies(3, [Reply("请用这个模板：", files=(file,))])
        (call,) = api.called("sendDocument", 3)
        assert call.delivered and call.text == "模板 <第1版>"
        assert call.files["document"] == ("参保名单模板.xlsx", b"PK\x03\x04 template")
        assert api.texts(3) == ["请用这个模板："]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_photo_gets_a_hint_to_send_the_roster_as_a_file(library):
    async with running(library) as (api, _):
        photo = [{"file_id": "p1", "file_unique_id": "up1", "width": 90, "height": 90}]
        api.push(api.message_update(1, "", photo=photo))
        assert await api.wait_for_texts(1, 1) == [say("bot.telegram.photo")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_progress_is_shown_by_editing_one_message(library):
    async with running(library) as (api, bot):
        progress = bot.channel.progress(4, min_interval=0)
        for text in ["正在检查：0/300 行", "正在检查：150/300 行", "正在检查：150/300 行"]:
            await progress(text)
        await progress("检查完成：300 行", final=True)
        assert api.texts(4) == ["正在检查：0/300 行"]
        edits = api.called("editMessageText", 4)
        assert [e.text for e in edits] == ["正在检查：150/300 行", "检查完成：300 行"]
        assert {int(e.params["message_id"]) for e in edits} == {progress.message_id}


# --- delivery ------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_redelivered_update_is_answered_once(library):
    async with running(library) as (api, _):
        update = api.message_update(1, "/start")
        api.push(update)
        api.push(update)
        assert await settle(api, 1) == [say("welcome")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_an_update_redelivered_after_a_restart_is_answered_once(library):
    storage = MemoryStorage()  # stands for the database both runs share
    async with FakeBotApi() as api:
        update = api.message_update(1, "/start")
        async with running(library, storage=storage, api=api):
            api.push(update)
            await api.wait_for_texts(1, 1)
        async with running(library, storage=storage, api=api):
            api.push(update)
            assert await settle(api, 1) == [say("welcome")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_429_is_waited_out_and_the_message_delivered_once(library):
    async with running(library) as (api, _):
        api.fail_next("sendMessage", retry_after=1)
        api.message(1, "/start")
        assert await api.wait_for_texts(1, 1) == [say("welcome")]
        assert [c.status for c in api.called("sendMessage", 1)] == [429, 200]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_send_that_timed_out_is_not_retried(library):
    async with running(library, request_timeout=1.0) as (api, _):
        api.hang_next("sendMessage")  # reaches the user, but the answer never comes back
        api.message(1, "/start")
        assert await settle(api, 1) == [say("welcome")]
        assert len(api.called("sendMessage", 1)) == 2  # the welcome once, then the help
        api.release()


# --- webhook -------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
async def test_webhook_requests_need_the_secret(library):
    async with running(library, env=WEBHOOK) as (api, bot):
        assert bot.webhook is not None
        url = f"http://127.0.0.1:{bot.webhook.port}/telegram/hook"
        assert api.webhook == {"url": WEBHOOK["HUBAO_WEBHOOK_URL"], "secret_token": SECRET}
        assert await post_update(url, api.message_update(1, "/start"), None) == 403
        assert await post_update(url, api.message_update(1, "/start"), "wrong") == 403
        assert api.texts(1) == []
        assert await post_update(url, api.message_update(1, "/start"), SECRET) == 200
        # The answer was sent before the webhook request was answered.
        assert api.texts(1) == [say("welcome")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_webhook_conversation_in_order_and_a_redelivery_answered_once(library):
    async with running(library, env=WEBHOOK) as (api, bot):
        assert bot.webhook is not None
        url = f"http://127.0.0.1:{bot.webhook.port}/telegram/hook"
        expected = [t for turn in await reference(QUOTE) for t in turn]
        for kind, value in QUOTE:
            update = (
                api.press_update(1, value) if kind == "press" else api.message_update(1, value)
            )
            assert await post_update(url, update, SECRET) == 200
            assert await post_update(url, update, SECRET) == 200  # Telegram retried it
        assert api.texts(1) == expected


# --- admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("library", LIBRARIES)
async def test_stats_and_misses_only_for_admins(library):
    async with running(library) as (api, _):
        await converse(api, 8, [("say", "火星上能参保吗")])
        api.message(8, "/stats")
        [*_, refused] = await api.wait_for_texts(8, 2)
        assert refused.startswith(say("unknown_command", command="/stats")[:8])
        api.message(ADMIN, "/stats")
        api.message(ADMIN, "/misses")
        stats, misses = await api.wait_for_texts(ADMIN, 2)
        assert "没答上：1 次" in stats and "对话：1 个" in stats
        assert "1次 · 火星上能参保吗" in misses


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_token_telegram_refuses_is_a_clear_message(library):
    async with FakeBotApi(token="987654321:AAOtherTokenOtherTokenOtherToken_x") as api:
        with pytest.raises(ChannelStartError, match="不接受"):
            async with running(library, api=api):
                pass
