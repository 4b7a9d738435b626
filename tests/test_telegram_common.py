"""What the Telegram channel does whichever library runs it: rendering, updates as engine
messages, settings, flood control, ordering, progress messages and the command line."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot import cli
from bot.settings import SettingsError
from bot.telegram import cli as telegram_cli
from bot.telegram.api import (
    BotApi,
    DocumentOut,
    FileTooLarge,
    FloodWait,
    MalformedUpdate,
    MaybeDelivered,
    TextOut,
    read_capped,
    with_flood_control,
)
from bot.telegram.channel import ChatSequencer, ProgressMessage, RecentIds
from bot.telegram.config import TelegramConfig, parse_admin_ids
from bot.telegram.events import (
    DocumentRef,
    TelegramEvent,
    command_text,
    incoming_from_callback,
)
from bot.telegram.render import html_chunks, render
from bot.telegram.reports import admin_command
from flows.messages import Choice, OutgoingFile, Reply
from flows.storage import ConversationKey
from rules.catalog import say

from helpers import engine, joined

TOKEN = "123456789:AAFakeTokenForHubaoTests_0123456789"
KEY = ConversationKey("telegram", "5", "5")

# --- replies as messages -------------------------------------------------------------------


def test_text_is_escaped_for_html():
    assert html_chunks("<b>A0 & B0</b>") == ["&lt;b&gt;A0 &amp; B0&lt;/b&gt;"]


def test_a_long_text_is_split_between_lines_within_the_limit():
    text = "\n".join(["第一段" * 10, "第二段" * 10, "第三段" * 10])
    chunks = html_chunks(text, limit=65)
    assert chunks == ["第一段" * 10 + "\n" + "第二段" * 10, "第三段" * 10]


def test_a_line_longer_than_the_limit_is_cut_but_never_inside_an_entity():
    chunks = html_chunks("甲" * 8 + "&" + "乙" * 8, limit=10)
    assert all(len(c) <= 10 for c in chunks)
    assert "".join(chunks) == "甲" * 8 + "&amp;" + "乙" * 8
    assert all(c.count("&") == c.count("&amp;") for c in chunks)


def test_length_is_counted_as_telegram_does_in_utf16_units():
    assert html_chunks("😀" * 6, limit=10) == ["😀" * 5, "😀"]


def test_choices_sit_under_the_last_piece_of_text_short_ones_side_by_side():
    plans = ["A0", "A0+A1", "A0+A2", "A0+A3", "A1", "A2", "A3"]
    choices = [Choice(p, f"v:{p}") for p in plans]
    reply = Reply("请选择保障项目", (*choices, Choice("不选A系列（在职住院）", "v:不选")))
    [message] = render([reply])
    assert isinstance(message, TextOut)
    rows = [[b.label for b in row] for row in message.keyboard]
    assert [label for row in rows for label in row] == [*plans, "不选A系列（在职住院）"]
    assert rows[-1] == ["不选A系列（在职住院）"]  # a long label has its own row
    assert all(len(row) <= 4 for row in rows) and len(rows) < len(plans)
    menu = render([Reply("菜单", (Choice("我要参保（上传名单、选项目）", "flow:enroll"),
                                  Choice("保费测算", "flow:quote")))])[0]  # fmt: skip
    assert isinstance(menu, TextOut) and [len(row) for row in menu.keyboard] == [1, 1]


def test_a_value_over_64_bytes_is_sent_as_its_number_counted_across_the_whole_answer():
    long_value = "v:" + "很长" * 20
    replies = [Reply("一", (Choice("甲", "cmd:start"),)), Reply("二", (Choice("乙", long_value),))]
    second = render(replies)[1]
    assert isinstance(second, TextOut)
    assert second.keyboard[0][0].data == "2"


def test_buttons_without_text_get_a_short_prompt_and_files_follow_their_text():
    file = OutgoingFile("reports/批注名单.xlsx", b"PK", "共 3 处问题 <请修改>")
    messages = render(
        [Reply("", (Choice("主菜单", "cmd:start"),)), Reply("检查完成", files=(file,))]
    )
    assert [type(m) for m in messages] == [TextOut, TextOut, DocumentOut]
    assert isinstance(messages[0], TextOut) and messages[0].html == say("bot.telegram.choose")
    assert messages[2] == DocumentOut("批注名单.xlsx", b"PK", "共 3 处问题 &lt;请修改&gt;")


# --- updates as engine messages ------------------------------------------------------------


def test_an_update_is_keyed_by_chat_and_user_and_identified_by_its_update_id():
    event = TelegramEvent(update_id=42, chat_id=-100, user_id=7, text="你好")
    assert event.key == ConversationKey("telegram", "-100", "7")
    assert event.message_id == "u42"


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("/start@hubao_bot", "/start"),
        ("/start from_site", "/start"),
        ("/quote@hubao_bot", "/quote"),
        ("A0多少钱", "A0多少钱"),
        ("/forget", "/forget"),
    ],
)
def test_commands_lose_the_bot_name_and_deep_link_payload(typed, seen):
    assert command_text(typed) == seen


def test_a_pressed_button_is_its_value_and_a_number_is_typed():
    assert incoming_from_callback(KEY, "u1", "v:A0 B0 C0").button == "v:A0 B0 C0"
    numbered = incoming_from_callback(KEY, "u1", "2")
    assert numbered.text == "2" and numbered.button is None


async def test_unusable_callback_data_is_answered_as_an_outdated_button():
    eng = engine()
    for data in [None, "", "x" * 65, "bad\ndata"]:
        replies = await eng.handle(incoming_from_callback(KEY, None, data))  # type: ignore[arg-type]
        assert say("stale_button") in joined(replies)


@pytest.mark.parametrize(
    "fields",
    [
        {"chat_id": True},  # JSON true is no id, though bool is an int in Python
        {"user_id": "7"},
        {"text": ["你好"]},
        {"callback_id": 5},
        {"callback_data": {"v": 1}},
        {"document": "file1"},
    ],
)
def test_an_update_field_of_the_wrong_type_is_a_malformed_update(fields):
    with pytest.raises(MalformedUpdate):
        TelegramEvent(**{"update_id": 1, "chat_id": 5, "user_id": 5, **fields})


def test_a_document_size_that_is_no_integer_is_a_malformed_update():
    with pytest.raises(MalformedUpdate, match="file_size"):
        DocumentRef("f1", "名单.xlsx", "12")  # type: ignore[arg-type]


def test_every_text_of_an_update_is_made_valid_unicode():
    event = TelegramEvent(
        1,
        5,
        5,
        text="你好\ud800",
        callback_data="v:\udc00",
        document=DocumentRef("f", "名\ud800", 1),
    )
    assert (event.text, event.callback_data) == ("你好\ufffd", "v:\ufffd")
    assert event.document is not None and event.document.name == "名\ufffd"


async def test_a_download_stops_one_chunk_past_the_cap_and_closes_the_stream():
    pulled: list[int] = []
    closed = asyncio.Event()

    async def chunks():
        try:
            for i in range(100):
                pulled.append(i)
                yield b"x" * 10
        finally:
            closed.set()

    with pytest.raises(FileTooLarge) as exc:
        await read_capped(chunks(), limit=25)
    assert (exc.value.size, exc.value.read) == (None, 30)
    assert len(pulled) == 3 and closed.is_set()
    assert await read_capped(chunks(), limit=1000) == b"x" * 1000


def test_admin_commands_are_only_for_listed_users():
    admins = frozenset({7})
    assert admin_command(TelegramEvent(1, 7, 7, text="/stats"), admins) == "stats"
    assert admin_command(TelegramEvent(1, 7, 7, text="/misses@hubao_bot"), admins) == "misses"
    assert admin_command(TelegramEvent(1, 8, 8, text="/stats"), admins) is None
    assert admin_command(TelegramEvent(1, 7, 7, text="统计"), admins) is None


# --- settings ------------------------------------------------------------------------------


def test_a_missing_token_says_where_to_get_one():
    with pytest.raises(SettingsError, match=r"没有设置 HUBAO_TELEGRAM_TOKEN.*BotFather"):
        TelegramConfig.from_env({})


def test_a_malformed_token_is_refused_without_echoing_it():
    with pytest.raises(SettingsError, match="格式不对") as exc:
        TelegramConfig.from_env({"HUBAO_TELEGRAM_TOKEN": "12345:secret-but-short"})
    assert "secret" not in str(exc.value)


def test_webhook_mode_needs_a_secret():
    env = {"HUBAO_TELEGRAM_TOKEN": TOKEN, "HUBAO_WEBHOOK_URL": "https://bot.example.cn/tg"}
    with pytest.raises(SettingsError, match="HUBAO_WEBHOOK_SECRET"):
        TelegramConfig.from_env(env)
    with pytest.raises(SettingsError, match="只能用"):
        TelegramConfig.from_env({**env, "HUBAO_WEBHOOK_SECRET": "有空格 的密钥"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HUBAO_TELEGRAM_API_BASE", "127.0.0.1:8081", "http://"),
        ("HUBAO_WEBHOOK_PORT", "80a", "端口号"),
        ("HUBAO_MAX_UPLOAD_MB", "50", "1 到 20"),
        ("HUBAO_ADMIN_IDS", "123,张三", "“张三”不是数字"),
    ],
)
def test_unusable_settings_name_the_variable(name, value, message):
    with pytest.raises(SettingsError, match=message):
        TelegramConfig.from_env({"HUBAO_TELEGRAM_TOKEN": TOKEN, name: value})


def test_a_full_webhook_configuration():
    config = TelegramConfig.from_env(
        {
            "HUBAO_TELEGRAM_TOKEN": TOKEN,
            "HUBAO_TELEGRAM_API_BASE": "http://127.0.0.1:8081/",
            "HUBAO_WEBHOOK_URL": "https://bot.example.cn/telegram/hook",
            "HUBAO_WEBHOOK_SECRET": "s3cret_-X",
            "HUBAO_WEBHOOK_PORT": "8443",
            "HUBAO_ADMIN_IDS": "12345678， 87654321",
            "HUBAO_MAX_UPLOAD_MB": "5",
        }
    )
    assert config.api_base == "http://127.0.0.1:8081"
    assert config.webhook_path == "/telegram/hook" and config.webhook_port == 8443
    assert config.admin_ids == {12345678, 87654321}
    assert config.download_limit == 5 * 1024 * 1024


def test_admin_ids_accept_spaces_and_chinese_commas():
    assert parse_admin_ids(" 1, 2，3 ,") == {1, 2, 3}


# --- flood control -------------------------------------------------------------------------


async def test_429_answers_are_waited_out_for_as_long_as_told():
    slept: list[float] = []
    answers: list[Exception | str] = [FloodWait(3), FloodWait(5), "sent"]

    async def send() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert await with_flood_control(send, sleep) == "sent"
    assert slept == [3, 5]


async def test_a_timeout_that_may_have_delivered_is_never_retried():
    calls = 0

    async def send() -> None:
        nonlocal calls
        calls += 1
        raise MaybeDelivered("read timeout")

    with pytest.raises(MaybeDelivered):
        await with_flood_control(send)
    assert calls == 1


# --- ordering ------------------------------------------------------------------------------


async def test_a_chats_turns_run_in_arrival_order_even_when_the_first_is_slower():
    done: list[str] = []

    def turn(name: str, pauses: int):
        async def work() -> None:
            for _ in range(pauses):
                await asyncio.sleep(0)
            done.append(name)

        return work

    sequencer = ChatSequencer(limit=4)
    sequencer.submit("a", turn("a1", 20))
    sequencer.submit("a", turn("a2", 0))
    sequencer.submit("b", turn("b1", 0))
    sequencer.submit("a", turn("a3", 0))
    await sequencer.drain()
    assert [n for n in done if n.startswith("a")] == ["a1", "a2", "a3"]
    assert done.index("b1") < done.index("a1")  # another chat is not held up


async def test_no_more_turns_than_the_limit_run_at_once():
    running, most = 0, 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1

    sequencer = ChatSequencer(limit=2)
    for chat in "abcde":
        sequencer.submit(chat, work)
    for _ in range(10):
        await asyncio.sleep(0)
    assert running == 2
    release.set()
    await sequencer.drain()
    assert most == 2


def test_recent_update_ids_are_remembered_up_to_a_bound():
    seen = RecentIds(size=2)
    assert seen.add(1) and seen.add(2) and not seen.add(1)
    assert seen.add(3) and seen.add(1)  # 1 was forgotten when 3 came


# --- progress ------------------------------------------------------------------------------


class RecordingApi(BotApi):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def send_text(self, chat_id: int, text: TextOut) -> int:
        self.calls.append(("send", text.html))
        return 99

    async def edit_text(self, chat_id: int, message_id: int, html_text: str) -> None:
        assert message_id == 99
        self.calls.append(("edit", html_text))

    async def send_document(self, chat_id: int, document: DocumentOut) -> None: ...
    async def answer_callback(self, callback_id: str) -> None: ...
    async def send_action(self, chat_id: int, action: str) -> None: ...

    async def download(self, file_id: str, limit: int) -> bytes:
        return b""

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None: ...


async def test_progress_edits_one_message_and_skips_edits_that_come_too_soon():
    api, now = RecordingApi(), [0.0]
    progress = ProgressMessage(api, 5, min_interval=2.0, clock=lambda: now[0])
    await progress("已检查 0/900 行")
    now[0] = 1.0
    await progress("已检查 100/900 行")  # too soon: skipped
    now[0] = 2.5
    await progress("已检查 300/900 行")
    now[0] = 3.0
    await progress("检查完成", final=True)  # the last word always shows
    assert api.calls == [
        ("send", "已检查 0/900 行"),
        ("edit", "已检查 300/900 行"),
        ("edit", "检查完成"),
    ]


# --- command line --------------------------------------------------------------------------


def test_hubao_telegram_without_a_token_exits_2_with_a_chinese_message(monkeypatch, capsys):
    monkeypatch.delenv("HUBAO_TELEGRAM_TOKEN", raising=False)
    assert cli.main(["telegram", "--library", "aiogram"]) == 2
    assert "没有设置 HUBAO_TELEGRAM_TOKEN" in capsys.readouterr().err


def test_the_telegram_command_defaults_to_python_telegram_bot():
    import argparse

    parser = argparse.ArgumentParser()
    telegram_cli.add_telegram_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["telegram", "--db", "sqlite:///x.db"])
    assert (args.library, args.db, args.handler) == (
        "ptb",
        "sqlite:///x.db",
        telegram_cli.cmd_telegram,
    )
    assert telegram_cli.bot_factory("aiogram").__name__ == "AiogramBot"
