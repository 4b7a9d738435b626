"""Guided enrollment's rough edges from issue 13: counts that add up, another unit's draft a
warning only, a roster sent before its step kept for it, the 是否有社保 fixes the messages
suggest done in chat, the template offered as a file, and an old 15-digit number's full
18-digit form found where the handler can use it."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from test_enroll import finish, send_roster, sheet_rows, to_roster_step

from flows.engine import Engine
from flows.enroll.upload import keep_early_roster
from flows.flow import FlowContext
from flows.storage import ConversationKey, MemoryStorage
from rules.policy import policy_for_enrollment_date
from rules.roster import Code, check_rows
from sheets.roster_file import FileFinding, read_roster_bytes

from helpers import button, default_birth, engine, joined, key, roster_upload, text, upload
from roster_builders import id_number, roster_row

TODAY = dt.date(2023, 7, 10)
START = dt.date(2023, 7, 11)  # a roster submitted on TODAY starts the next day


def files_of(replies: list) -> dict[str, bytes]:
    return {f.name: f.data for r in replies for f in r.files}


def clean_people(replies: list) -> list[tuple[object, ...]]:
    """The rows of the clean roster sent with the summary (named for the unit and date)."""
    [data] = [data for name, data in files_of(replies).items() if "参保名单（可导入）" in name]
    return sheet_rows(data)[1:]


# --- item 4: counts that add up, and a birth date mismatch under its own code ----------


def test_a_birth_date_that_disagrees_with_the_id_has_its_own_code_and_label():
    result = check_rows(
        [roster_row(3, id_number=id_number(dt.date(1990, 1, 1)), birth_date="1990-01-02")],
        policy=policy_for_enrollment_date(TODAY),
        start=START,
    )
    [finding] = result.findings
    assert finding.code is Code.BIRTH_MISMATCH and str(finding.code) == "birth_mismatch"
    assert finding.code.label == "出生日期与证件号码不符"
    assert "性别" not in Code.BIRTH_MISMATCH.label and "出生日期" not in Code.GENDER_MISMATCH.label


def test_people_per_category_add_up_to_the_people_who_can_enroll():
    rows = [
        roster_row(2, id_number=id_number(dt.date(1990, 1, 1), seq=1)),
        roster_row(3, id_number=id_number(dt.date(1990, 1, 1), seq=2), social_insurance="否"),
        roster_row(4, id_number=id_number(dt.date(1950, 1, 1), seq=3)),  # 职保, over age
        roster_row(5, id_number=id_number(dt.date(1990, 1, 1), seq=4), sex="女"),  # mismatch
        roster_row(6, id_number=id_number(dt.date(1990, 1, 1), seq=1)),  # duplicate of row 2
    ]
    result = check_rows(rows, policy=policy_for_enrollment_date(TODAY), start=START)
    counts = result.people_categories
    assert sum(counts.values()) == len(result.people) == 3
    assert len(result.people) + result.rows_with_errors == result.rows


async def test_the_roster_summary_in_chat_adds_up():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    male = id_number(default_birth(5), male=True, seq=5)
    said = await send_roster(
        bot,
        who,
        {
            "people": 3,
            "rows": [
                {"name": "老张", "born": "1960-03-01"},  # 职保, over age: to decide
                {"name": "错位", "id": male, "sex": "女"},  # sex disagrees: an error
                {"name": "重复", "id": id_number(default_birth(1), seq=1)},  # duplicate
                {"name": "王芳", "born": "1995-03-01", "sex": "女", "si": "否"},
            ],
        },
    )
    head = re.search(r"共(\d+)行，可以参保(\d+)人，有错误(\d+)行", said)
    assert head, said
    rows, ok, errors = map(int, head.groups())
    assert (rows, ok, errors) == (7, 5, 2)
    kinds = re.search(
        r"可以参保的(\d+)人分类：职保在职(\d+)人，非职保（没交社保、未超龄）(\d+)人，职保超龄(\d+)人",
        said,
    )
    assert kinds, said
    assert [int(n) for n in kinds.groups()] == [5, 3, 1, 1]


# --- item 13: another unit's draft warns, names nobody and blocks nobody ----------------


async def test_people_in_another_units_draft_are_warned_about_and_enrolled():
    storage = MemoryStorage()
    bot, first, second = engine(storage, TODAY), key("u1"), key("u2")
    await to_roster_step(bot, first, "甲贸易公司")
    await send_roster(bot, first, {"people": 2})
    await to_roster_step(bot, second, "乙贸易公司")
    said = await send_roster(bot, second, {"people": 3})
    assert "共3行，可以参保3人" in said and "名单没有问题：可以参保3人" in said
    assert "也在另一份参保草稿里" in said and "平台会拒绝重复参保" in said
    assert "甲贸易公司" not in said and "单位的参保草稿中" not in said
    kept = joined(await bot.handle(text(second, "保留第2行")))
    assert "不用删" in kept and "不需要保留确认" not in kept
    replies = await finish(bot, second, "3")
    assert "合计：540元" in joined(replies)  # all three, at 180
    clean = clean_people(replies)
    assert [p[1] for p in clean] == ["员工1", "员工2", "员工3"]


# --- item 14: a roster sent before the roster step is kept and checked there ------------

AT_WAIT = ["我要参保", "没有", "今天", "没有", "有", "填过了", "上海早到科技有限公司"]


async def at_the_wait_question(bot: Engine, who: ConversationKey) -> None:
    said = ""
    for words in AT_WAIT:
        said = joined(await bot.handle(text(who, words)))
    assert "先继续准备名单" in said


async def keep_in_draft(bot: Engine, storage: MemoryStorage, who: ConversationKey,
                        name: str, data: bytes) -> str:  # fmt: skip
    """What the engine's hook does with a file the pending step does not take."""
    async with storage.turn(who, None) as turn:
        ctx = FlowContext(turn.state.slots, bot.today(), vault=bot.vault)
        return joined(keep_early_roster(name, data, ctx))


async def test_a_roster_kept_before_its_step_is_checked_when_the_step_comes():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await at_the_wait_question(bot, who)
    name, data = roster_upload({"file": "早到名单.xlsx", "people": 2, "rows": [{"si": ""}]})
    kept = await keep_in_draft(bot, storage, who, name, data)
    assert "早到名单.xlsx" in kept and "自动检查" in kept
    async with storage.turn(who, None) as turn:
        saved = str(turn.state.to_json())
    assert id_number(default_birth(1), seq=1) not in saved  # sealed, never in the clear
    said = joined(await bot.handle(text(who, "先继续准备名单")))
    assert "名单《早到名单.xlsx》已检查：共3行，可以参保2人，有错误1行" in said
    assert "第4行" in said


async def test_a_roster_kept_before_pausing_is_checked_on_resuming():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await at_the_wait_question(bot, who)
    name, data = roster_upload({"people": 2})
    await keep_in_draft(bot, storage, who, name, data)
    paused = joined(await bot.handle(text(who, "等办好了再来")))
    assert "先检查您已经发来的名单" in paused
    said = joined(await bot.handle(text(who, "继续参保")))
    assert "共2行，可以参保2人" in said and "名单没有问题" in said


async def test_a_file_at_a_step_past_the_roster_is_not_kept_as_an_early_roster():
    storage = MemoryStorage()
    bot, who = engine(storage, TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 2})
    name, data = roster_upload({"people": 2})
    assert await keep_in_draft(bot, storage, who, name, data) == ""


async def test_a_roster_uploaded_at_the_wait_question_is_kept_and_checked_later():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await at_the_wait_question(bot, who)
    name, data = roster_upload({"file": "早到名单.xlsx", "people": 2})
    kept = joined(await bot.handle(upload(who, name, data)))
    assert "现在还不需要文件" not in kept and "自动检查" in kept
    assert "先继续准备名单" in kept  # the pending question comes again
    said = joined(await bot.handle(text(who, "先继续准备名单")))
    assert "名单《早到名单.xlsx》已检查：共2行，可以参保2人" in said


# --- item 15: the 是否有社保 fixes the messages suggest work in chat ---------------------


async def test_an_empty_social_insurance_cell_is_set_in_chat_either_way():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    said = await send_roster(
        bot, who, {"people": 2, "rows": [{"name": "小王", "si": ""}, {"name": "小李", "si": ""}]}
    )
    assert "第4行" in said and "第5行" in said and "第4行设为在职" in said
    set_ = joined(await bot.handle(text(who, "第4行设为在职")))
    assert "已把第4行 小王的“是否有社保”设为“是”" in set_ and "改不了" not in set_
    no = joined(await bot.handle(text(who, "第5行没有社保")))
    assert "已把第5行 小李设为没有社保" in no
    assert "名单没有问题：可以参保4人（职保在职3人，非职保1人）" in no
    replies = await finish(bot, who, "4")
    clean = clean_people(replies)
    assert [(p[1], p[7]) for p in clean] == [
        ("员工1", "是"), ("员工2", "是"), ("小王", "是"), ("小李", "否")
    ]  # fmt: skip


async def test_a_row_marked_no_and_over_age_is_set_in_service_then_kept_in_chat():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    old = {"name": "老李", "born": "1962-01-01", "sex": "女", "si": "否"}
    said = await send_roster(bot, who, {"people": 2, "rows": [old]})
    assert "第4行" in said and "改为“是”" in said
    set_ = joined(await bot.handle(text(who, "第4行设为在职")))
    assert "改不了" not in set_ and "已把第4行 老李的“是否有社保”设为“是”" in set_
    assert "保留第4行" in set_  # over age as a 职保 employee: removed or confirmed
    kept = joined(await bot.handle(text(who, "保留第4行")))
    assert "已保留第4行 老李" in kept and "名单没有问题：可以参保3人" in kept
    replies = await finish(bot, who, "3")
    clean = clean_people(replies)
    assert [(p[1], p[7]) for p in clean] == [("员工1", "是"), ("员工2", "是"), ("老李", "是")]


async def test_no_social_insurance_is_refused_for_someone_over_the_age_limit():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 1, "rows": [{"born": "1960-01-01", "si": ""}]})
    said = joined(await bot.handle(text(who, "第3行没有社保")))
    assert "不能参保" in said and "删除第3行" in said
    assert "已删除" in joined(await bot.handle(text(who, "删除第3行")))


# --- item 16: in chat the template comes as a file --------------------------------------


def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "rows",
    [
        [["备注", "金额"], ["午餐", "20"]],  # no header
        [["序号", "姓名", "证件号码"], [1, "张三", "1"]],  # 证件类型 and 是否有社保 missing
    ],
)
async def test_a_file_without_the_templates_header_offers_the_template_button(rows):
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    replies = await bot.handle(upload(who, "名单.xlsx", _workbook(rows)))
    said = joined(replies)
    assert "hubao" not in said and "点“发我导入模板”" in said
    assert any(c.value == "v:模板" for r in replies for c in r.choices)
    sent = await bot.handle(button(who, "v:模板"))
    assert "参保名单导入模板.xlsx" in files_of(sent)


async def test_the_template_is_sent_while_fixing_and_the_checked_roster_stays():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    await send_roster(bot, who, {"people": 2, "rows": [{"id": "3101011990010112"}]})
    replies = await bot.handle(upload(who, "新名单.xlsx", _workbook([["名字"], ["张三"]])))
    said = joined(replies)
    assert "点“发我导入模板”" in said and "之前的名单" in said
    sent = await bot.handle(button(who, "v:模板"))
    assert "参保名单导入模板.xlsx" in files_of(sent)
    assert "第4行" in joined(sent)  # back at the fixes of the roster checked before
    assert "已删除第4行" in joined(await bot.handle(text(who, "删除第4行")))


def test_the_reader_names_no_terminal_command():
    data = _workbook([["备注", "金额"], ["午餐", "20"]])
    finding = read_roster_bytes(data, "名单.xlsx", policy=policy_for_enrollment_date(TODAY))
    assert isinstance(finding, FileFinding) and finding.code == "bad_template"
    assert "表头" in finding.message and "hubao" not in finding.message


# --- item 17: an old 15-digit number: the full 18 digits are in the annotated workbook --


async def test_an_old_id_says_where_the_full_upgraded_number_is():
    bot, who = engine(MemoryStorage(), TODAY), key()
    await to_roster_step(bot, who)
    name, data = roster_upload({"people": 1, "rows": [{"name": "老号", "id": "110105491231002"}]})
    replies = await bot.handle(upload(who, name, data))
    said = joined(replies)
    assert "15位的老身份证号" in said
    assert "参保名单_检查结果.xlsx" in said and "问题说明" in said
    assert "**********" not in said  # a masked number is of no use to the handler
    report = files_of(replies)["参保名单_检查结果.xlsx"]
    notes = [str(c) for row in sheet_rows(report) for c in row if c]
    assert any("11010519491231002X" in note for note in notes)
