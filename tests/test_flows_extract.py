"""Slot values from the way handlers write in chat: one parser per slot type."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.extract import (
    PlanEdit,
    extract_count,
    extract_date,
    extract_head_count,
    extract_plan_edit,
    extract_plans,
    extract_yes_no,
    find_date,
    find_dates,
    retracts,
    strip_correction,
)

TODAY = dt.date(2023, 7, 10)  # a Monday
SPAN = (dt.date(2023, 6, 1), dt.date(2024, 6, 30))  # policy year 2023 and its window


@pytest.mark.parametrize(
    ("said", "plans"),
    [
        ("A0 B0 C0", ("A0", "B0", "C0")),
        ("a0b0c0", ("A0", "B0", "C0")),
        ("Ａ０，Ｂ０", ("A0", "B0")),
        ("三个基本都要", ("A0", "B0", "C0")),
        ("基本的三个都要", ("A0", "B0", "C0")),
        ("住院加强二档", ("A2",)),
        ("重疾基本和意外三档", ("B0", "C3")),
        ("基本三项加上A1", ("A0", "B0", "C0", "A1")),
    ],
)
def test_plans_in_any_spelling(said, plans):
    assert extract_plans(said) == plans


def test_text_without_plans_says_nothing():
    assert extract_plans("保费交到哪里") is None


@pytest.mark.parametrize(
    ("said", "result"),
    [
        ("去掉C0", ("A0", "B0")),
        ("不对，不要C0", ("A0", "B0")),
        ("不用C0了", ("A0", "B0")),
        ("把B0去掉", ("A0", "C0")),
        ("A0不用了", ("B0", "C0")),
        ("A0不要 B0 C0要", ("B0", "C0")),
        ("再加上A1呢", ("A0", "B0", "C0", "A1")),
        ("加个A1", ("A0", "B0", "C0", "A1")),
        ("C0换成C1", ("A0", "B0", "C1")),
        ("B0换B2", ("A0", "B2", "C0")),
        ("C1替换C0", ("A0", "B0", "C1")),
        ("换成A0 B0 C0 A2再算一下", ("A0", "B0", "C0", "A2")),
        ("只要B0和C0", ("B0", "C0")),
        ("A0 B0", ("A0", "B0")),
    ],
)
def test_plan_edits_add_remove_swap_or_name_anew(said, result):
    edit = extract_plan_edit(said)
    assert edit is not None
    assert edit.apply(("A0", "B0", "C0")) == result


def test_a_plain_selection_names_the_plans_anew():
    assert extract_plan_edit("A0 B0") == PlanEdit(chosen=("A0", "B0"))


@pytest.mark.parametrize(
    ("said", "split"),
    [
        ("8个人", (8, 0)),
        ("八人", (8, 0)),
        ("十二名员工", (12, 0)),
        ("一共12人", (12, 0)),
        ("两个人", (2, 0)),
        ("5个有社保的3个没有", (5, 3)),
        ("有社保的5人，没社保的2人", (5, 2)),
        ("职保3个非职保2个", (3, 2)),
        ("3个职保2个非职保", (3, 2)),
        ("0个有社保4个没有", (0, 4)),
        ("4个都没有社保", (0, 4)),
        ("3个没有社保的", (0, 3)),
        ("五个有社保，三个没有", (5, 3)),
        ("8个人，3个没社保", (5, 3)),
        ("一共8个人，其中5个有社保", (5, 3)),
        ("8个人参加A0B0C0，2024年2月起保多少钱", (8, 0)),
    ],
)
def test_head_counts_by_category(said, split):
    count = extract_head_count(said)
    assert count is not None
    assert count.resolve() == split


def test_all_of_them_in_one_category_takes_the_known_total():
    count = extract_head_count("全部没社保")
    assert count is not None
    assert count.resolve(previous=(4, 0)) == (0, 4)
    assert count.resolve() is None  # no total known: nothing is guessed


def test_a_category_count_alone_keeps_the_earlier_total():
    count = extract_head_count("3个没社保")
    assert count is not None and count.resolve(previous=(8, 0)) == (5, 3)


@pytest.mark.parametrize(
    "said", ["二十来个", "十几个人", "20多个", "七八个", "三十左右", "十来个人"]
)
def test_a_rough_count_is_never_read_as_a_number(said):
    assert extract_head_count(said, bare_number=True) is None


def test_a_bare_number_counts_only_when_a_count_was_asked():
    assert extract_head_count("8") is None
    count = extract_head_count("8", bare_number=True)
    assert count is not None and count.resolve() == (8, 0)


@pytest.mark.parametrize(
    "said",
    ["6个月", "再加一个A1", "三个基本的加上住院加强二档", "三个基本保障一起参加有优惠吗",
     "7月15日提交", "保费27.5元", "第3行", "下周五"],
)  # fmt: skip
def test_numbers_that_are_not_people_are_not_head_counts(said):
    assert extract_head_count(said, bare_number=True) is None


@pytest.mark.parametrize(
    ("said", "split"),
    [("再加两个人", (10, 0)), ("少一个人", (7, 0)), ("再加3个没社保的", (8, 3)),
     ("多算了一个 是7个", (7, 0)), ("人数改成12", (12, 0)), ("人数写错了 是12", (12, 0))],
)  # fmt: skip
def test_a_change_of_the_head_count_applies_to_the_earlier_one(said, split):
    count = extract_head_count(said)
    assert count is not None and count.resolve(previous=(8, 0)) == split


def test_a_change_with_nothing_before_is_not_a_count():
    count = extract_head_count("再加两个人")
    assert count is not None and count.resolve() is None


@pytest.mark.parametrize(
    ("said", "count"),
    [("8", 8), ("八个", 8), ("一共五个", 5), ("10个人", 10), ("去年十个", 10), ("20号", None)],
)
def test_plain_counts(said, count):
    assert extract_count(said) == count


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("2024年1月15日", dt.date(2024, 1, 15)),
        ("2024-1-15", dt.date(2024, 1, 15)),
        ("2024/01/15起保", dt.date(2024, 1, 15)),
        ("明年1月", dt.date(2024, 1, 1)),
        ("明年1月5号交名单", dt.date(2024, 1, 5)),
        ("下个月1号", dt.date(2023, 8, 1)),
        ("下个月15号", dt.date(2023, 8, 15)),
        ("7月15日提交", dt.date(2023, 7, 15)),
        ("7月20", dt.date(2023, 7, 20)),
        ("7/20", dt.date(2023, 7, 20)),
        ("7.20", dt.date(2023, 7, 20)),
        ("七月二十号", dt.date(2023, 7, 20)),
        ("16号", dt.date(2023, 7, 16)),
        ("二十号", dt.date(2023, 7, 20)),
        ("3月1日", dt.date(2024, 3, 1)),  # this year's has left the policy year: next one
        ("6月20", dt.date(2024, 6, 20)),  # both in the span: the one still ahead
        ("明天", dt.date(2023, 7, 11)),
        ("后天", dt.date(2023, 7, 12)),
        ("下周一", dt.date(2023, 7, 17)),
        ("下周五", dt.date(2023, 7, 21)),
        ("下礼拜三", dt.date(2023, 7, 19)),
        ("下星期二", dt.date(2023, 7, 18)),
        ("这周五", dt.date(2023, 7, 14)),
        ("周五", dt.date(2023, 7, 14)),
        ("月底", dt.date(2023, 7, 31)),
        ("2024年2月起保", dt.date(2024, 2, 1)),
    ],
)
def test_dates_relative_to_today(said, day):
    assert extract_date(said, TODAY, SPAN) == day


def test_a_past_day_is_read_as_said_not_moved_to_next_year():
    # 7月8日 on 2023-07-10 is two days ago; the flows refuse it with the reason.
    assert extract_date("7月8日", TODAY, SPAN) == dt.date(2023, 7, 8)


@pytest.mark.parametrize("said", ["7月", "2023年2月30日", "下周", "45000", "随便"])
def test_vague_or_impossible_dates_are_not_guessed(said):
    assert extract_date(said, TODAY, SPAN) is None


@pytest.mark.parametrize(
    ("said", "role"),
    [
        ("12月1日起保", "start"),
        ("7月1号起保的话", "start"),
        ("改成从3月1日起保", "start"),
        ("7月15日提交名单", "submit"),
        ("要是7月5号才交呢", "submit"),
        ("如果我们明年1月5号交名单呢", "submit"),
        ("提交日期改成7月20日", "submit"),
        ("下周五", None),
    ],
)
def test_a_date_says_whether_it_is_the_start_or_the_submission(said, role):
    found = find_date(said, TODAY, SPAN)
    assert found is not None and found.role == role


def test_every_date_of_a_message_with_its_role():
    found = find_dates("7月1号起保的话，我们6月20号交名单", dt.date(2023, 6, 10), SPAN)
    assert [(m.day, m.role) for m in found] == [
        (dt.date(2023, 7, 1), "start"),
        (dt.date(2023, 6, 20), "submit"),
    ]


@pytest.mark.parametrize(
    ("said", "answer"),
    [("是", True), ("是的", True), ("有的", True), ("嗯", True), ("对", True), ("好的", True),
     ("行", True), ("可以", True), ("没问题", True), ("名单没问题，下一步", True),
     ("没有", False), ("不是", False), ("不对", False), ("不行", False), ("不要", False),
     ("忘了", False), ("随便", None)],
)  # fmt: skip
def test_yes_no(said, answer):
    assert extract_yes_no(said) is answer


@pytest.mark.parametrize(
    ("said", "value"),
    [("不对，是10个人", "10个人"), ("不是8个是9个", "9个"), ("说错了，7月20号", "7月20号"),
     ("是9个，不是8个", "9个")],
)  # fmt: skip
def test_a_correction_keeps_only_the_new_value(said, value):
    assert retracts(said) or "不是" in said
    assert strip_correction(said) == value


# --- no misread answer becomes another number --------------------------------------------

_CN = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十",
       11: "十一", 12: "十二", 20: "二十", 25: "二十五", 30: "三十"}  # fmt: skip
_UNIT = ["个", "个人", "人", "名", "位", "名员工", "位员工"]


def _number(n: int, chinese: bool) -> str:
    return _CN[n] if chinese and n in _CN else str(n)


@given(
    zhibao=st.sampled_from(sorted(_CN)),
    non=st.sampled_from([0, *sorted(_CN)]),
    chinese=st.booleans(),
    unit=st.sampled_from(_UNIT),
    template=st.sampled_from(
        [
            "{z}{u}有社保{n}{u}没有",
            "{z}{u}有社保，{n}{u}没社保",
            "有社保的{z}{u}，没社保的{n}{u}",
            "职保{z}{u}非职保{n}{u}",
            "{z}{u}职保{n}{u}非职保",
            "{z}{u}交社保的，{n}{u}没交社保",
        ]
    ),
)
def test_head_counts_of_known_meaning_read_exactly(zhibao, non, chinese, unit, template):
    said = template.format(z=_number(zhibao, chinese), n=_number(non, chinese), u=unit)
    count = extract_head_count(said, bare_number=True)
    assert count is not None, said
    assert count.resolve() == (zhibao, non), said


@given(
    total=st.integers(min_value=1, max_value=5000),
    unit=st.sampled_from(["", *_UNIT]),
    lead=st.sampled_from(["", "一共", "总共", "不对，是", "改成", "人数改成", "我们有"]),
)
def test_a_total_reads_as_itself_or_not_at_all(total, unit, lead):
    said = f"{lead}{total}{unit}"
    # The engine reads an answer without its correction words, as here.
    count = extract_head_count(strip_correction(said), bare_number=True)
    if unit or not lead:  # "12人", "一共12个", a bare "12": always read
        assert count is not None, said
    if count is not None:
        assert count.resolve() == (total, 0), said


@given(
    day=st.dates(min_value=dt.date(2023, 6, 1), max_value=dt.date(2024, 6, 30)),
    form=st.sampled_from(["{y}年{m}月{d}日", "{y}-{m}-{d}", "{y}/{m:02}/{d:02}", "{m}月{d}号",
                          "{m}月{d}日", "{m}.{d}", "{m}/{d}"]),
    role=st.sampled_from(["", "起保", "提交", "交名单"]),
    today=st.dates(min_value=dt.date(2023, 6, 1), max_value=dt.date(2024, 6, 29)),
)  # fmt: skip
def test_dates_of_known_meaning_read_exactly_or_refuse(day, form, role, today):
    said = form.format(y=day.year, m=day.month, d=day.day) + role
    found = find_date(said, today, SPAN)
    assert found is not None, said
    if "{y" in form:
        assert found.day == day, said
    else:  # without a year: the same month and day, inside the policy year
        assert (found.day.month, found.day.day) == (day.month, day.day), said
        assert SPAN[0] <= found.day <= SPAN[1], said
    assert found.role == {"": None, "起保": "start"}.get(role, "submit"), said
