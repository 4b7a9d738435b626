"""Questions the assistant could not answer, grouped for the hotline team: similar wordings
together, the most asked first, and never a full ID number in the list."""

from __future__ import annotations

import datetime as dt

from bot.cli import main
from faq.misses import Miss, group_misses, newest_first

AT = dt.datetime(2023, 7, 10, 9, 0)


def test_unanswered_questions_are_listed_for_the_hotline_team(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path))
    for q in [
        "公积金怎么提取",
        "公积金怎么提取呢",
        "明天会下雨吗",
        "身份证310101199001010252怎么办理公积金",
    ]:
        main(["ask", q])
    capsys.readouterr()
    assert main(["faq", "misses"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[0] in {"2", "3"}
    assert "310101199001010252" not in out


def test_similar_wordings_are_one_group_and_the_most_asked_comes_first():
    asked = ["明天会下雨吗", "公积金怎么提取", "公积金怎么提取呢", "公积金怎么提取？"]
    groups = group_misses(Miss(q, AT) for q in asked)
    assert [(g.question, g.count) for g in groups] == [("公积金怎么提取", 3), ("明天会下雨吗", 1)]
    assert groups[0].variants == ("公积金怎么提取", "公积金怎么提取呢", "公积金怎么提取？")


def test_a_wording_asked_again_is_counted_but_listed_once():
    groups = group_misses([Miss("明天会下雨吗", AT), Miss("明天会下雨吗", AT)])
    assert len(groups) == 1 and groups[0].count == 2 and groups[0].variants == ("明天会下雨吗",)


def test_an_id_number_or_mobile_in_a_miss_is_masked_in_the_list():
    groups = group_misses([Miss("身份证310101199001010252手机13812345678怎么办", AT)])
    shown = " ".join([groups[0].question, *groups[0].variants])
    assert "310101199001010252" not in shown and "13812345678" not in shown


def test_a_group_knows_when_it_was_last_asked_and_the_console_lists_the_newest_first():
    hour = dt.timedelta(hours=1)
    asked = [
        Miss("公积金怎么提取", AT),
        Miss("明天会下雨吗", AT + hour),
        Miss("公积金怎么提取呢", AT + 2 * hour),
        Miss("医保卡丢了怎么补办", AT + 3 * hour),
    ]
    groups = group_misses(asked)
    assert groups[0].question == "公积金怎么提取"  # the most asked first
    latest = {g.question: g.latest for g in groups}
    assert latest["公积金怎么提取"] == (AT + 2 * hour).replace(tzinfo=dt.UTC)
    assert [g.question for g in newest_first(groups)] == [
        "医保卡丢了怎么补办",
        "公积金怎么提取",
        "明天会下雨吗",
    ]
