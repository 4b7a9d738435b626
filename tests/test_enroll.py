"""Guided enrollment beyond the conversation scripts: the files a unit takes to the
platform, what the database keeps of its people, erasure, and a big roster's progress."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import openpyxl
import pytest

from flows.engine import Engine
from flows.storage import ConversationKey, MemoryStorage, Storage
from flows.storage_factory import open_storage
from flows.vault import Vault

from helpers import button, default_birth, engine, joined, key, roster_upload, text, upload
from roster_builders import TEMPLATE_HEADER, id_number

TODAY = dt.date(2023, 7, 10)
BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了"]


async def to_roster_step(
    bot: Engine, who: ConversationKey, unit: str = "上海测试有限公司"
) -> None:
    for words in [*BEFORE_ROSTER, unit]:
        await bot.handle(text(who, words))


async def send_roster(bot: Engine, who: ConversationKey, spec: dict[str, object]) -> str:
    name, data = roster_upload(spec)
    return joined(await bot.handle(upload(who, name, data)))


async def finish(bot: Engine, who: ConversationKey, last_year: str) -> list:
    await bot.handle(button(who, "v:done"))
    await bot.handle(text(who, last_year))
    return await bot.handle(text(who, "A0 B0 C0"))


def sheet_rows(data: bytes, sheet: str | None = None) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    ws = workbook[sheet] if sheet else workbook.active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


async def state_json(storage: Storage, who: ConversationKey) -> str:
    found = ""

    class Peek(Exception):
        pass

    try:
        async with storage.turn(who, None) as turn:
            found = json.dumps(turn.state.to_json(), ensure_ascii=False)
            raise Peek
    except Peek:
        pass
    return found


ROWS = {
    "people": 3,
    "rows": [
        {"name": "王芳", "born": "1995-03-01", "sex": "女", "si": "否"},
        {"name": "错号", "id": "3101011990010112"},
    ],
}


async def test_the_clean_roster_imports_the_people_left_after_fixes_in_the_template_layout():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, ROWS)
    await bot.handle(text(who, "删除第6行"))
    await bot.handle(text(who, "第5行设为在职"))
    replies = await finish(bot, who, "4")
    files = {f.name: f.data for r in replies for f in r.files}
    rows = sheet_rows(files["上海测试有限公司_参保名单（可导入）_20230710.xlsx"])
    assert list(rows[0]) == TEMPLATE_HEADER
    people = rows[1:]
    assert [p[1] for p in people] == ["员工1", "员工2", "员工3", "王芳"]
    assert [p[0] for p in people] == [1, 2, 3, 4]
    # Full ID numbers, as text, so the platform imports them; 王芳 now has social insurance.
    assert people[3][3] == id_number(dt.date(1995, 3, 1), male=False, seq=4)
    assert people[3][7] == "是"
    assert "合计：720元" in joined(replies)  # four 职保 people at 180


async def test_the_summary_workbook_shows_masked_ids_and_each_persons_premium():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 2, "rows": [ROWS["rows"][0]]})
    replies = await finish(bot, who, "3")
    files = {f.name: f.data for r in replies for f in r.files}
    summary = dict(
        (r[0], r[1])
        for r in sheet_rows(files["上海测试有限公司_参保汇总_20230710.xlsx"], "参保汇总")
    )
    assert summary["应缴保费合计"] == "430元"  # 2 x 180 + B0 55 + C0 15
    assert summary["汇款账号"] == "31602300008022150"
    people = sheet_rows(files["上海测试有限公司_参保汇总_20230710.xlsx"], "参保人员")[1:]
    assert [(p[1], p[4], p[5]) for p in people] == [
        ("员工1", "A0、B0、C0", 180),
        ("员工2", "A0、B0、C0", 180),
        ("王芳", "B0、C0", 70),
    ]
    full = id_number(dt.date(1995, 3, 1), male=False, seq=3)
    assert people[2][2] == full[:4] + "*" * 10 + full[-4:]
    assert all(full not in str(cell) for row in people for cell in row)


async def test_the_draft_keeps_no_full_id_number_and_drops_the_sealed_rows_after_the_summary():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 3})
    numbers = [id_number(default_birth(i), seq=i) for i in (1, 2, 3)]
    saved = await state_json(storage, who)
    assert "sealed" in saved and all(n not in saved for n in numbers)
    assert all(n not in line.text for line in await storage.transcript(who) for n in numbers)
    await finish(bot, who, "3")
    # Kept until the user has the summary: the next message that does not ask for it again.
    await bot.handle(text(who, "好的，谢谢"))
    saved = await state_json(storage, who)
    assert '"sealed"' not in saved
    assert json.loads(saved)["slots"]["quote"]["total"] == 540  # the quote stays in the draft


@pytest.mark.parametrize("again", ["汇总没收到", "继续参保", "文件呢？", "怎么没反应了"])
async def test_a_summary_lost_before_delivery_is_sent_again_with_its_files(again: str):
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 3})
    await finish(bot, who, "3")  # saved, then the process died before the replies went out
    replies = await bot.handle(text(who, again))
    assert "合计：540元" in joined(replies)
    files = {f.name for r in replies for f in r.files}
    assert {
        "上海测试有限公司_参保名单（可导入）_20230710.xlsx",
        "上海测试有限公司_参保汇总_20230710.xlsx",
    } <= files
    # Asked once more after another message: the rows are gone, nothing full is kept.
    await bot.handle(text(who, "好的"))
    later = await bot.handle(text(who, "汇总没收到"))
    assert not any(r.files for r in later)


def test_sealed_rows_open_only_under_the_same_secret_and_unaltered():
    vault = Vault(b"a-secret-of-enough-length")
    token = vault.seal([[2, "张三", "310101199001010011"]])
    assert vault.unseal(token) == [[2, "张三", "310101199001010011"]]
    assert "310101199001010011" not in token
    assert Vault(b"another-secret-of-length").unseal(token) is None
    assert vault.unseal(token[:-4] + "AAAA") is None
    assert vault.id_hash("310101199001010011") != Vault(b"another-secret-x").id_hash(
        "310101199001010011"
    )


async def test_forget_releases_the_ids_so_another_unit_can_enroll_them(storage: Storage):
    bot = engine(storage, TODAY)
    first, second = key("u1"), key("u2")
    await to_roster_step(bot, first, "甲贸易公司")
    await send_roster(bot, first, {"people": 2})
    await to_roster_step(bot, second, "乙贸易公司")
    conflict = await send_roster(bot, second, {"people": 2})
    assert "也在另一份参保草稿里" in conflict and "可以参保2人" in conflict  # a warning only
    assert "甲贸易公司" not in conflict  # one unit's data is never shown to another
    assert "甲贸易公司" not in await state_json(storage, second)
    assert "确定删除吗" in joined(await bot.handle(text(first, "删除我的数据")))
    assert "已删除" in joined(await bot.handle(text(first, "确定全部删除")))
    again = await send_roster(bot, second, {"people": 2})
    assert "甲贸易公司" not in again and "名单没有问题" in again
    assert "另一份参保草稿" not in again


async def test_the_draft_survives_a_restart_on_the_database(sql_url: str):
    storage = await open_storage(sql_url)
    try:
        who = key()
        bot = engine(storage, TODAY)
        await to_roster_step(bot, who)
        assert "第5行" in await send_roster(bot, who, {"people": 3, "rows": [ROWS["rows"][1]]})
    finally:
        await storage.close()
    storage = await open_storage(sql_url)
    try:
        bot = engine(storage, TODAY)  # a new process on the same database
        resumed = joined(await bot.handle(text(who, "继续参保")))
        assert "接着上次的" in resumed and "第5行" in resumed
        await bot.handle(text(who, "删除第5行"))
        replies = await finish(bot, who, "3")
        assert "合计：540元" in joined(replies)
        assert any(
            f.name == "上海测试有限公司_参保名单（可导入）_20230710.xlsx"
            for r in replies
            for f in r.files
        )
    finally:
        await storage.close()


async def test_a_big_roster_reports_progress_while_it_is_checked():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    shown: list[str] = []

    async def progress(line: str) -> None:
        shown.append(line)

    name, data = roster_upload({"people": 1200})
    replies = await bot.handle(upload(who, name, data), progress=progress)
    assert "共1200行，可以参保1200人" in joined(replies)
    assert shown and all(line.startswith("正在检查名单：已读取") for line in shown)
    counts = [int(re.search(r"已读取(\d+)", line).group(1)) for line in shown]
    assert counts == sorted(counts) and counts[-1] <= 1200


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ({"raw": ""}, "空"),
        ({"raw": "PK\x03\x04broken zip"}, "打不开"),
        ({"file": "名单.xls", "raw": "\xd0\xcf\x11\xe0"}, "xlsx"),
    ],
)
async def test_a_file_the_checks_cannot_read_is_explained_and_the_roster_asked_again(spec, said):
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    answer = await send_roster(bot, who, spec)
    assert said in answer and "Excel" in answer


async def test_a_side_question_nobody_can_answer_is_recorded_for_the_hotline_team():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await to_roster_step(bot, who)
    seen = joined(await bot.handle(text(who, "公司年会节目怎么排？")))
    assert "答不上来" in seen and "12351" in seen and "回到刚才的问题" in seen
    assert [m.question for m in await storage.misses()] == ["公司年会节目怎么排？"]
    # An answer that is not a question is asked again, and nothing is recorded.
    assert "没看懂" in joined(await bot.handle(text(who, "嗯嗯嗯")))
    assert len(await storage.misses()) == 1


async def test_another_agencys_business_is_declined_with_where_to_ask_and_not_recorded():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    seen = joined(await bot.handle(text(who, "公积金怎么提取")))
    assert "12329" in seen
    await to_roster_step(bot, who)
    seen = joined(await bot.handle(text(who, "退休金每个月能拿多少？")))
    assert "12333" in seen and "回到刚才的问题" in seen
    assert await storage.misses() == []


@pytest.mark.parametrize("words", ["删除有错误的行", "把错的删掉", "去掉有问题的那几行"])
async def test_rows_with_errors_are_removed_when_asked_in_plain_words(words: str):
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 2, "rows": [{"id": "3101011990010112"}]})
    said = joined(await bot.handle(text(who, words)))
    assert "已删除第4行" in said and "名单没有问题" in said


async def test_a_hidden_roster_sheet_is_named_as_not_checked_and_its_people_left_out():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    book = openpyxl.Workbook()
    shown = book.active
    shown.title = "本年名单"
    shown.append(TEMPLATE_HEADER)
    shown.append([1, "张三", "居民身份证", id_number(dt.date(1980, 1, 1)), "", "", "", "是"])
    hidden = book.create_sheet("参保名单")
    hidden.append(TEMPLATE_HEADER)
    for i in range(2, 5):
        hidden.append([i, f"旧员工{i}", "居民身份证", id_number(dt.date(1981, 1, i), seq=i),
                       "", "", "", "是"])  # fmt: skip
    hidden.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    said = joined(await bot.handle(upload(who, "名单.xlsx", buffer.getvalue())))
    assert "隐藏的工作表“参保名单”没有检查" in said
    assert "可以参保1人" in said
