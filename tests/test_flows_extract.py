"""Slot values from the way handlers write in chat."""

import datetime as dt

import pytest

from flows.extract import extract_date, extract_head_count, extract_plans, extract_yes_no

TODAY = dt.date(2023, 7, 10)


@pytest.mark.parametrize(
    ("said", "plans"),
    [
        ("A0 B0 C0", ("A0", "B0", "C0")),
        ("a0b0c0", ("A0", "B0", "C0")),
        ("Ａ０，Ｂ０", ("A0", "B0")),
        ("三个基本都要", ("A0", "B0", "C0")),
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
    ("said", "zhibao", "non"),
    [
        ("8个人", 8, None),
        ("八人", 8, None),
        ("十二名员工", 12, None),
        ("5个有社保的3个没有", 5, 3),
        ("有社保的5人，没社保的2人", 5, 2),
        ("3个没有社保的", 0, 3),
    ],
)
def test_head_counts(said, zhibao, non):
    count = extract_head_count(said)
    assert count is not None
    assert (count.zhibao, count.non_zhibao) == (zhibao, non)


def test_a_bare_number_counts_only_when_a_count_was_asked():
    assert extract_head_count("8") is None
    count = extract_head_count("8", bare_number=True)
    assert count is not None and count.zhibao == 8


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("2024年1月15日", dt.date(2024, 1, 15)),
        ("2024-1-15", dt.date(2024, 1, 15)),
        ("2024/01/15起保", dt.date(2024, 1, 15)),
        ("明年1月", dt.date(2024, 1, 1)),
        ("下个月1号", dt.date(2023, 8, 1)),
        ("下个月15号", dt.date(2023, 8, 15)),
        ("7月15日提交", dt.date(2023, 7, 15)),
        ("7月5日", dt.date(2024, 7, 5)),  # already past this year: the next one
        ("明天", dt.date(2023, 7, 11)),
        ("2024年2月起保", dt.date(2024, 2, 1)),
    ],
)
def test_dates_relative_to_today(said, day):
    assert extract_date(said, TODAY) == day


@pytest.mark.parametrize("said", ["7月", "2023年2月30日", "下周"])
def test_vague_or_impossible_dates_are_not_guessed(said):
    assert extract_date(said, TODAY) is None


@pytest.mark.parametrize(
    ("said", "answer"),
    [("是", True), ("有的", True), ("嗯", True), ("没有", False), ("不是", False),
     ("忘了", False), ("随便", None)],
)  # fmt: skip
def test_yes_no(said, answer):
    assert extract_yes_no(said) is answer
