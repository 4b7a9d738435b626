"""The Telegram boundary under hostile or broken input, on both libraries against the fake Bot
API: malformed webhook requests are answered 200 and dropped (Telegram would redeliver them
forever otherwise), a file without a truthful size is cut off at the cap while it downloads,
lone surrogates never reach the engine, and forged button data is answered like any other.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_bot_api import FakeBotApi, post_body, post_update
from test_telegram import LIBRARIES, SECRET, WEBHOOK, running, settle

from bot.telegram.api import DOWNLOAD_CHUNK, FileTooLarge
from bot.telegram.events import incoming_from_callback, valid_text
from bot.telegram.webhook import TelegramBot
from flows.messages import Incoming
from flows.storage import ConversationKey, MemoryStorage, Storage
from flows.storage_factory import open_storage
from rules.catalog import say

from helpers import engine

MB = 1024 * 1024
PERSONAL = "张三 310101199003071234"
"""Stands for what a user may type: never to be found in a log."""


def webhook_url(bot: TelegramBot) -> str:
    assert bot.webhook is not None
    return f"http://127.0.0.1:{bot.webhook.port}/telegram/hook"


async def engine_says(text: str | None = None, button: str | None = None) -> list[str]:
    """What a fresh conversation's engine answers to one message."""
    key = ConversationKey("telegram", "1", "1")
    replies = await engine(MemoryStorage()).handle(Incoming(key, text=text or "", button=button))
    return [r.text.strip() or say("bot.telegram.choose") for r in replies]


# --- malformed webhook requests --------------------------------------------------------------


def _message(api: FakeBotApi, **changes: Any) -> dict[str, Any]:
    update = api.message_update(1, PERSONAL)
    update["message"].update(changes)
    return update


def _without_chat(api: FakeBotApi) -> dict[str, Any]:
    update = api.message_update(1, PERSONAL)
    del update["message"]["chat"]
    return update


def _json(update: object) -> bytes:
    return json.dumps(update).encode()


def _with_raw_field(api: FakeBotApi, name: str, raw: bytes) -> bytes:
    """A message update whose message has ``name`` set to the raw JSON ``raw``."""
    return _json(_message(api))[: -len(b"}}")] + f', "{name}": '.encode() + raw + b"}}"


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED: dict[str, Any] = {
    "message is a string": lambda api: _json({"update_id": 7, "message": PERSONAL}),
    "message without chat": lambda api: _json(_without_chat(api)),
    "chat id is a string": lambda api: _json(_message(api, chat={"id": "一", "type": "private"})),
    "text is a list": lambda api: _json(_message(api, text=[PERSONAL])),
    "sender is a string": lambda api: _json(_message(api, **{"from": PERSONAL})),
    "callback query is a number": lambda api: _json({"update_id": 8, "callback_query": 5}),
    "update_id is true": lambda api: _json({**api.message_update(1, PERSONAL), "update_id": True}),
    "update_id missing": lambda api: _json({"message": api.message_update(1, PERSONAL)}),
    "100,000-deep arrays": lambda api: _nested(100_000),
    "deep arrays inside an update": lambda api: _with_raw_field(api, "entities", _nested(100_000)),
    "arrays 500 deep as the text": lambda api: _with_raw_field(api, "text", _nested(500)),
    "not JSON": lambda api: PERSONAL.encode() + b" {",
    "not UTF-8": lambda api: b'{"update_id": 9, "message": "\xff\xfe"}',
    "a JSON array": lambda api: _json([api.message_update(1, PERSONAL)]),
    "a JSON number": lambda api: b"12",
    "empty body": lambda api: b"",
    "a 2 MB body": lambda api: _json(_message(api, text=PERSONAL * 100_000)),
}


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("kind", list(MALFORMED))
async def test_a_malformed_webhook_update_is_answered_200_dropped_and_logged_without_content(
    library, kind, caplog
):
    caplog.set_level(logging.INFO)
    async with running(library, env=WEBHOOK) as (api, bot):
        url = webhook_url(bot)
        assert await post_body(url, MALFORMED[kind](api), SECRET) == 200
        assert "dropped" in caplog.text
        assert await post_update(url, api.message_update(1, "/start"), SECRET) == 200
        assert api.texts(1) == [say("welcome")]  # only the well-formed update was answered
    assert PERSONAL not in caplog.text and PERSONAL[:2] not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_huge_body_without_a_length_is_read_only_up_to_the_limit(library, caplog):
    caplog.set_level(logging.INFO)
    async with running(library, env=WEBHOOK) as (api, bot):
        body = _json(_message(api, text="长" * (2 * MB)))
        assert await post_body(webhook_url(bot), body, SECRET, chunked=True) == 200
        assert "webhook request dropped: body too large" in caplog.text
        assert await post_update(webhook_url(bot), api.message_update(1, "/start"), SECRET) == 200
        assert api.texts(1) == [say("welcome")]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_malformed_updates_need_the_secret_too(library):
    async with running(library, env=WEBHOOK) as (_, bot):
        assert await post_body(webhook_url(bot), b"[1]", "wrong") == 403


# --- files without a truthful size -----------------------------------------------------------

CAP = {"HUBAO_MAX_UPLOAD_MB": "1"}
OVER_CAP = "文件超过了 1 MB 的上限，请只保留名单工作表后再发。"
BIG = b"PK\x03\x04" + bytes(range(256)) * (8 * MB // 256)
"""An 8 MB file, over the 1 MB cap of these tests."""


def spy_downloads(bot: TelegramBot, monkeypatch: pytest.MonkeyPatch) -> list[FileTooLarge]:
    """The FileTooLarge each download ended with (it tells how many bytes were read)."""
    refused: list[FileTooLarge] = []
    download = bot.channel.api.download

    async def spy(file_id: str, limit: int) -> bytes:
        try:
            return await download(file_id, limit)
        except FileTooLarge as exc:
            refused.append(exc)
            raise

    monkeypatch.setattr(bot.channel.api, "download", spy)
    return refused


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("declared", ["no size", "a false small size"])
async def test_a_file_over_the_cap_is_cut_off_while_downloading_with_the_true_cap_said(
    library, declared, monkeypatch
):
    async with running(library, env=CAP) as (api, bot):
        refused = spy_downloads(bot, monkeypatch)
        if declared == "no size":
            api.document(1, "名单.xlsx", BIG, declared=False)
        else:
            api.document(1, "名单.xlsx", BIG, size=300 * 1024)
        assert await api.wait_for_texts(1, 1) == [OVER_CAP]
        # The client read at most one chunk past the cap, then hung up.
        [exc] = refused
        assert 1 * MB < exc.read <= 1 * MB + DOWNLOAD_CHUNK
        await api.wait_for(lambda: len(api.transfers) == 1 and not api.transfers[0].complete)
        [transfer] = api.transfers
        # What the server sent is what was read plus what the socket buffers held.
        assert transfer.sent < len(BIG) // 2
        assert await settle(api, 1) == [OVER_CAP]


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_file_within_the_cap_without_a_declared_size_is_downloaded_whole(library):
    async with running(library, env=CAP) as (api, _):
        data = BIG[: MB - 10]
        api.document(1, "名单.xlsx", data, declared=False)
        assert await api.wait_for_texts(1, 1) == [say("file_outside_flow")]
        [transfer] = api.transfers
        assert transfer.complete and transfer.sent == len(data)


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_file_telegram_keeps_from_bots_gets_the_cap_said(library):
    async with running(library) as (api, _):
        api.document(1, "名单.xlsx", b"x" * (21 * MB), declared=False)  # over 20 MB
        assert await api.wait_for_texts(1, 1) == [say("bot.telegram.over_cap", limit=10)]
        assert api.transfers == []


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_declared_size_over_the_cap_is_refused_without_downloading(library):
    async with running(library, env=CAP) as (api, _):
        api.document(1, "名单.xlsx", b"PK", size=3 * MB)
        [text] = await api.wait_for_texts(1, 1)
        assert "文件太大了（3.0 MB）" in text and "最多能收 1 MB" in text
        assert api.called("getFile") == [] and api.transfers == []


# --- lone surrogates -------------------------------------------------------------------------


def test_lone_surrogates_become_replacement_characters_and_pairs_are_kept():
    assert valid_text("A0\ud800多少钱") == "A0\ufffd多少钱"
    assert valid_text("\udc00\ud83d\ude00\x00") == "\ufffd😀"
    assert valid_text("普通文字") == "普通文字"


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Storage]:
    """SQL storage: it cannot encode a lone surrogate, so one reaching it is an error."""
    storage = await open_storage(f"sqlite:///{tmp_path / 'hubao.sqlite3'}")
    yield storage
    await storage.close()


@pytest.mark.parametrize("library", LIBRARIES)
async def test_lone_surrogates_in_polled_updates_never_reach_the_engine(library, sqlite):
    async with running(library, storage=sqlite) as (api, _):
        api.message(1, "/quote\ud800")  # the fake API sends it escaped, as "\ud800"
        api.message(2, "火星上\udc00能参保吗")
        api.document(3, "名单\ud800.xlsx", b"PK\x03\x04 roster")
        api.press(4, "v:\udcff\ud800")
        assert await settle(api, 1) == await engine_says("/quote\ufffd")
        assert await settle(api, 2) == await engine_says("火星上\ufffd能参保吗")
        assert await settle(api, 3) == [say("file_outside_flow")]
        assert await settle(api, 4) == await engine_says(button="v:\ufffd\ufffd")
        for chat in (1, 2, 3, 4):
            assert say("bot.telegram.internal_error") not in api.texts(chat)


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_lone_surrogate_in_a_webhook_update_is_answered(library, sqlite):
    async with running(library, env=WEBHOOK, storage=sqlite) as (api, bot):
        body = _json(api.message_update(1, "/quote\ud800"))
        assert b"\\ud800" in body
        assert await post_body(webhook_url(bot), body, SECRET) == 200
        assert api.texts(1) == await engine_says("/quote\ufffd")


# --- forged button data ----------------------------------------------------------------------

FORGED = ["cmd:forget", "flow:enroll", "stale:", "garbage", "999", "x" * 300,
          "\udcff\udcfe", "v:A0\n<b>", "", "🙂" * 40]  # fmt: skip


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("data", FORGED, ids=range(len(FORGED)))
async def test_forged_button_data_reaches_the_engine_and_the_press_is_answered(library, data):
    async with running(library) as (api, _):
        api.press(1, data)
        texts = await settle(api, 1)
        key = ConversationKey("telegram", "1", "1")
        expected = incoming_from_callback(key, "u1", valid_text(data))
        assert texts == await engine_says(expected.text, expected.button)
        assert say("bot.telegram.internal_error") not in texts
        assert len(api.called("answerCallbackQuery")) == 1


@pytest.mark.parametrize("library", LIBRARIES)
async def test_a_press_with_no_chat_to_answer_in_is_still_acknowledged(library):
    async with running(library) as (api, _):
        update = api.press_update(1, "cmd:start")
        del update["callback_query"]["message"]  # a button under an inline-mode message
        update["callback_query"]["inline_message_id"] = "im1"
        api.push(update)
        await api.wait_for(lambda: bool(api.called("answerCallbackQuery")))
        assert await settle(api, 1) == []


@pytest.mark.parametrize("library", LIBRARIES)
async def test_forged_button_data_by_webhook_is_answered(library):
    async with running(library, env=WEBHOOK) as (api, bot):
        update = api.press_update(1, "cmd:forget")
        assert await post_update(webhook_url(bot), update, SECRET) == 200
        assert api.texts(1) == await engine_says(button="cmd:forget")
        [answer] = api.called("answerCallbackQuery")
        assert answer.params["callback_query_id"] == update["callback_query"]["id"]
