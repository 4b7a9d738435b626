"""Whatever a user sends, in any order, the enrollment answers and never crashes: random
walks over offered buttons, typical and hostile texts, commands and uploads."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.storage import MemoryStorage

from helpers import button, engine, key, roster_upload, text, upload

TEXTS = [
    "我要参保", "继续参保", "没有", "有", "参加过", "今天", "明天", "7月15日", "2023-13-45", "15",
    "忘了", "还没填", "上海某某科技有限公司", "好的", "下一步", "删除第3行", "删除2到4行",
    "保留第5行", "第4行设为在职", "删除张三", "A0 B0 C0", "A1 A2", "不选", "三个基本都要",
    "去年8人", "不清楚", "-5", "0", "99999999", "保费交到哪里", "/back", "/cancel", "/restart",
    "菜单", "人工", "/help", "😀😀😀", "第310101199001010011行", "x" * 3000, "",
    "不对，是10个人", "提交日期改成7月20日", "去掉C0", "单位名称改成上海测试有限公司", "接着办",
    "不是明天是后天", "A系列不要", "再加两个人", "8个人A0B0C0多少钱", "先到这吧",
    "错号删掉老王保留",
    "不对", "那重病什么时候能赔", "我要转人工", "名单没啥问题 往下走", "去年10个，交社保的8个",
]  # fmt: skip
UPLOADS = [
    {"people": 3},
    {
        "people": 2,
        "rows": [{"name": "错号", "id": "3101"}, {"name": "老王", "born": "1955-01-01"}],
    },
    {"people": 1, "rows": [{"name": "王芳", "born": "1995-03-01", "sex": "女", "si": "否"}]},
    {"raw": "not a workbook"},
]
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("say"), st.sampled_from(TEXTS)),
        st.tuples(st.just("button"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("upload"), st.integers(min_value=0, max_value=len(UPLOADS) - 1)),
    ),
    min_size=1,
    max_size=25,
)
FILES = [roster_upload(spec) for spec in UPLOADS]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(today=st.sampled_from([dt.date(2023, 6, 10), dt.date(2023, 7, 10), dt.date(2024, 1, 10)]),
       actions=ACTIONS)  # fmt: skip
async def test_any_sequence_of_messages_gets_an_answer_and_never_an_error(today, actions):
    storage = MemoryStorage()
    bot, who = engine(storage, today), key()
    offered: list[str] = []
    for kind, value in [("say", "我要参保"), *actions]:
        if kind == "button":
            if not offered:
                continue
            message = button(who, offered[value % len(offered)])
        elif kind == "upload":
            message = upload(who, *FILES[value])
        else:
            message = text(who, value)
        replies = await bot.handle(message)
        assert replies and all(r.text.strip() for r in replies), (kind, value)
        offered = [c.value for r in replies for c in r.choices]


CHAT = [
    "算保费", "报价", "8个人A0B0C0多少钱", "帮我算下保费，12月1号起保，10个人", "职保3个非职保2个",
    "0个有社保4个没有", "全部没社保", "下周五", "16号", "7.20", "7月8日", "集中参保", "最早",
    "不对，是8个人", "改成从3月1日起保", "去掉C0", "再加上C0呢", "换成A0 B0 C0 A2再算一下",
    "人数改成12个", "那10个人呢", "要是7月5号才交呢", "6月20号提交什么时候开始保", "对", "好的",
    "那重病什么时候能赔", "状态是缴费凭证待上传，现在能干嘛", "那缴费凭证待审核呢",
    "退休金每个月能拿多少",
    "我要转人工", "起保日期和免责期", "批次状态怎么办", "/back", "/cancel", "菜单", "1", "2", "3",
    "A1和A2能一起选吗", "再加两个人", "少一个人", "C0换成C1", "😀", "",
]  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(today=st.sampled_from([dt.date(2023, 6, 20), dt.date(2023, 11, 10), dt.date(2025, 3, 1)]),
       said=st.lists(st.sampled_from(CHAT), min_size=1, max_size=20))  # fmt: skip
async def test_any_sequence_of_quote_coverage_and_status_messages_gets_an_answer(today, said):
    bot, who = engine(MemoryStorage(), today), key()
    for words in said:
        replies = await bot.handle(text(who, words))
        assert replies and all(r.text.strip() for r in replies), words
