"""`hubao quote` as a hotline agent uses it."""

import json

import pytest

from bot.cli import main


def quote_json(capsys, *args):
    code = main(["quote", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("args", "total", "pricing"),
    [
        (["--plans", "A0,B0,C0", "--start", "2023-07-01"], 180, "full_year"),
        (["--plans", "A0,B0"], 175, "full_year"),
        (["--plans", "A0,B0,C0", "--start", "2024-01-15"], 95, "half_year"),
        (["--plans", "a0", "b0", "c0", "--people", "8"], 1440, "full_year"),
    ],
)
def test_handbook_examples(capsys, args, total, pricing):
    code, out = quote_json(capsys, *args)
    assert code == 0
    assert out["total"] == total
    assert out["pricing"] == pricing


def test_per_person_figures_for_both_categories(capsys):
    _, out = quote_json(capsys, "--plans", "A0,B0,C0", "--people", "3", "--non-zhibao", "2")
    assert out["per_person"] == 180
    assert out["per_person_non_zhibao"] == 70
    assert out["total"] == 3 * 180 + 2 * 70


@pytest.mark.parametrize(
    ("args", "code_expected", "words"),
    [
        (["--plans", "A1"], "selection_refused", "至少"),
        (["--plans", "A0,A1,A2"], "selection_refused", "至多"),
        (["--plans", "A0,B0,C0", "--start", "2024-07-01"], "no_policy_data", "2024年7月1日"),
        (["--plans", "A0", "--start", "7月1日"], "bad_date", "2023-07-01"),
        (["--plans", "A0", "--people", "0", "--non-zhibao", "2"], "nothing_to_quote", "无法"),
    ],
)
def test_refusals_exit_2_with_chinese_reason(capsys, args, code_expected, words):
    code = main(["quote", *args, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["error"]["code"] == code_expected
    assert words in captured.err


def test_human_output_shows_table_discount_total_and_platform_is_final(capsys):
    assert main(["quote", "--plans", "A0,B0,C0,A1", "--people", "2"]) == 0
    out = capsys.readouterr().out
    for words in ("A1", "135", "优惠", "合计：630元", "全年缴费标准", "保费详细"):
        assert words in out


@pytest.mark.parametrize(
    ("start", "said"),
    [
        ("2023-02-30", "2023年2月30日不存在（2023年2月只有28天）"),
        ("2023-04-31", "2023年4月31日不存在（2023年4月只有30天）"),
        ("2023-13-01", "2023年13月1日不存在（月份只能是1到12）"),
    ],
)
def test_a_start_that_does_not_exist_is_said_to_not_exist(capsys, start, said):
    code = main(["quote", "--plans", "A0", "--start", start, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["error"]["code"] == "bad_date"
    assert said in captured.err and "格式" not in captured.err


@pytest.mark.parametrize("start", ["2023/7/1", "2023年7月1日", "20230701", "2023-07-01"])
def test_a_start_is_read_as_handlers_write_dates(capsys, start):
    code, out = quote_json(capsys, "--plans", "A0,B0,C0", "--start", start)
    assert code == 0 and out["start"] == "2023-07-01"
