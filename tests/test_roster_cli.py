"""`hubao roster` as a unit's handler or a hotline agent uses it."""

import argparse
import datetime as dt
import json
import re

import openpyxl
import pytest

from bot import cli
from bot.roster_cli import add_roster_commands

from roster_builders import csv_file, id_number, people, row_values, workbook


@pytest.fixture(autouse=True)
def roster_wired(monkeypatch):
    """Run through bot.cli.main, with `roster` registered whether or not cli.py has it yet."""
    build = cli.build_parser

    def with_roster():
        parser = build()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "roster" not in sub.choices:
            add_roster_commands(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_roster)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    """A day of the centralized window: without --as-of, ages are computed on 2023-07-01."""
    monkeypatch.setenv("HUBAO_TODAY", "2023-06-10")


def hubao(capsys, *args):
    code = cli.main(["roster", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_json(capsys, *args):
    code, out, err = hubao(capsys, "check", *args, "--json")
    return code, json.loads(out), err


@pytest.fixture
def good_roster(tmp_path):
    rows = [row_values(n, seq=i, si="是" if i % 3 else "否") for i, n in enumerate(people(12), 1)]
    return workbook(tmp_path / "名单.xlsx", rows, title_rows=["2023年度参保名单"])


@pytest.fixture
def bad_roster(tmp_path):
    ids = people(4)
    rows = [
        row_values(ids[0]),
        row_values(ids[0], seq=2),  # duplicate
        row_values(310101199001010252, seq=3),  # typed as a number
        row_values(ids[1][:17] + ("0" if ids[1][17] != "0" else "1"), seq=4),  # checksum
        row_values(id_number(dt.date(1960, 3, 3), male=False), seq=5),  # over age
        row_values(ids[2], seq=6, si="不清楚"),
    ]
    return workbook(tmp_path / "名单.xlsx", rows)


def test_template_writes_the_import_template(capsys, tmp_path):
    out = tmp_path / "模板.xlsx"
    code, stdout, _ = hubao(capsys, "template", out)
    assert code == 0 and "模板" in stdout
    assert openpyxl.load_workbook(out).sheetnames == ["参保名单", "填写说明"]


def test_a_good_roster_checks_clean_with_the_json_shape_of_the_issue(capsys, good_roster):
    code, out, _ = check_json(capsys, good_roster)
    assert code == 0
    assert set(out) == {
        "file_error", "as_of", "rows", "errors", "warnings", "people", "unit_checks"
    }  # fmt: skip
    assert out["file_error"] is None
    assert out["rows"] == 12
    assert out["errors"] == [] and out["warnings"] == []
    assert out["people"]["zhibao"] == 8 and out["people"]["non_zhibao"] == 4


def test_row_findings_exit_0_with_row_column_code_and_message(capsys, bad_roster):
    code, out, _ = check_json(capsys, bad_roster)
    assert code == 0
    errors = [(f["row"], f["column"], f["code"]) for f in out["errors"]]
    assert errors == [
        (3, "证件号码*", "duplicate_id"),
        (4, "证件号码*", "numeric_id"),
        (5, "证件号码*", "id_checksum"),
        (7, "是否有社保*", "bad_si_flag"),
    ]
    assert [(w["row"], w["code"]) for w in out["warnings"]] == [(6, "over_age")]
    for finding in out["errors"] + out["warnings"]:
        assert set(finding) == {"row", "column", "code", "message"}
        assert "请" in finding["message"]


def test_human_output_summarizes_counts_by_code_and_lists_rows_with_ids_masked(capsys, bad_roster):
    code, out, err = hubao(capsys, "check", bad_roster)
    assert code == 0
    assert "共6行" in out
    assert "证件号码重复（duplicate_id）：1处" in out
    assert "第3行 证件号码*［错误］" in out
    assert "第6行 证件号码*［提醒］" in out
    assert not re.search(r"\d{15}", out + err)
    assert "最终以平台校验结果为准" in out


def test_no_full_id_number_in_any_output(capsys, tmp_path):
    ids = people(3)
    rows = [
        row_values(ids[0]),
        row_values(ids[0], seq=2),
        row_values("110105491231002", seq=3),
        row_values(ids[1], seq=4, sex=ids[2], birth=ids[2], phone="13812345678"),
    ]
    path = workbook(tmp_path / "名单.xlsx", rows)
    outputs = [hubao(capsys, "check", path), hubao(capsys, "check", path, "--json")]
    text = "".join(out + err for _, out, err in outputs)
    for number in [*ids, "11010519491231002X", "13812345678"]:
        assert number not in text


def test_unit_checks_with_last_year_si_payers_and_attachments(capsys, good_roster):
    _, out, _ = check_json(capsys, good_roster, "--last-year", "20", "--si-payers", "20")
    unit = out["unit_checks"]
    assert unit["people"] == 12
    assert unit["change"]["passes"] is False
    assert unit["si_ratio"]["ratio"] == 0.6 and unit["si_ratio"]["passes"] is False
    assert unit["passes"] is False
    names = [a["name"] for a in unit["attachments"]]
    assert "加盖公章的情况说明" in names
    assert all(a["reason"] for a in unit["attachments"])


def test_new_unit_always_needs_the_si_declaration_form(capsys, good_roster):
    code, out, _ = hubao(capsys, "check", good_roster, "--new-unit", "--si-payers", "12")
    assert code == 0
    assert "社会保险费缴费申报表" in out and "新参保单位" in out


def test_unit_checks_is_an_object_even_without_figures(capsys, good_roster):
    _, out, _ = check_json(capsys, good_roster)
    assert out["unit_checks"]["passes"] is None
    assert out["unit_checks"]["attachments"] == []


def test_as_of_moves_the_age_line(capsys, tmp_path):
    woman = id_number(dt.date(1968, 9, 1), male=False)
    path = workbook(tmp_path / "名单.xlsx", [row_values(woman, si="否")])
    _, out, _ = check_json(capsys, path)
    assert out["errors"] == []
    _, later, _ = check_json(capsys, path, "--as-of", "2023-09-01")
    assert [e["code"] for e in later["errors"]] == ["ineligible"]


@pytest.fixture
def woman_without_si(tmp_path):
    """55 on 2023-07-05: under age on the year's start, over it from 2023-07-11."""
    woman = id_number(dt.date(1968, 7, 5), male=False)
    return workbook(tmp_path / "名单.xlsx", [row_values(woman, si="否")])


def test_without_as_of_instant_enrollment_computes_ages_on_tomorrow(
    capsys, monkeypatch, woman_without_si
):
    monkeypatch.setenv("HUBAO_TODAY", "2023-07-10")
    _, out, _ = check_json(capsys, woman_without_si)
    assert [e["code"] for e in out["errors"]] == ["ineligible"]  # as the chat refuses her
    assert out["as_of"]["date"] == "2023-07-11" and out["as_of"]["basis"] == "instant"
    code, text, _ = hubao(capsys, "check", woman_without_si)
    assert code == 0
    assert "年龄按起保日2023年7月11日计算" in text
    assert "起保日按今天（2023年7月10日）提交、明天起保计算" in text and "--as-of" in text


def test_without_as_of_in_the_centralized_window_ages_are_on_the_years_start(
    capsys, woman_without_si
):
    _, out, _ = check_json(capsys, woman_without_si)  # HUBAO_TODAY=2023-06-10
    assert out["errors"] == []
    assert out["as_of"]["date"] == "2023-07-01" and out["as_of"]["basis"] == "centralized"
    _, text, _ = hubao(capsys, "check", woman_without_si)
    assert "年龄按起保日2023年7月1日计算" in text and "集中参保" in text


def test_without_as_of_out_of_every_enrollment_period_the_newest_years_start_is_said(
    capsys, monkeypatch, woman_without_si
):
    monkeypatch.setenv("HUBAO_TODAY", "2026-11-29")
    _, out, _ = check_json(capsys, woman_without_si)
    assert out["as_of"]["date"] == "2023-07-01" and out["as_of"]["basis"] == "closed"
    _, text, _ = hubao(capsys, "check", woman_without_si)
    assert "今天（2026年11月29日）不在参保办理时间内" in text and "2023年7月1日" in text


def test_as_of_given_is_used_as_is(capsys, monkeypatch, woman_without_si):
    monkeypatch.setenv("HUBAO_TODAY", "2023-07-10")
    _, out, _ = check_json(capsys, woman_without_si, "--as-of", "2023-07-01")
    assert out["errors"] == []
    assert out["as_of"] == {"date": "2023-07-01", "basis": "given", "message": ""}


def test_report_and_clean_files(capsys, tmp_path, bad_roster):
    report, clean = tmp_path / "标注.xlsx", tmp_path / "可导入.xlsx"
    code, out, _ = hubao(capsys, "check", bad_roster, "--report", report, "--clean", clean)
    assert code == 0 and "标注.xlsx" in out and "可导入.xlsx" in out
    ws = openpyxl.load_workbook(report).worksheets[0]
    assert ws["I1"].value == "问题说明" and "重复" in ws["I3"].value
    code, again, _ = check_json(capsys, clean)
    assert code == 0
    assert again["errors"] == []
    assert [w["code"] for w in again["warnings"]] == ["over_age"]  # kept, to be confirmed


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("名单.xlsx", b"not a workbook", "unreadable_file"),
        ("名单.xlsx", b"", "unreadable_file"),
        ("名单.csv", "姓名,证件号码\n张三,1\n".encode(), "bad_template"),
        ("名单.csv", "姓名,证件类型,证件号码,是否有社保\n".encode(), "empty_roster"),
    ],
)
def test_a_file_finding_exits_2_with_a_chinese_message(capsys, tmp_path, name, data, code):
    path = tmp_path / name
    path.write_bytes(data)
    status, out, _ = check_json(capsys, path)
    assert status == 2
    assert out["file_error"]["code"] == code
    assert out["errors"] == [] and out["rows"] == 0
    status, stdout, err = hubao(capsys, "check", path)
    assert status == 2 and stdout == ""
    assert out["file_error"]["message"] in err and "Traceback" not in err


def test_too_many_rows_exits_2_and_asks_to_split(capsys, tmp_path):
    rows = [row_values(n, seq=i) for i, n in enumerate(people(5001), start=1)]
    status, _, err = hubao(capsys, "check", csv_file(tmp_path / "名单.csv", rows))
    assert status == 2 and "5000" in err and "拆成" in err


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--as-of", "七月一日"], "bad_date", "2023-07-01"),
        (["--as-of", "2030-01-01"], "no_policy_data", "2030年1月1日"),
        (["--as-of", "2023-02-29"], "bad_date", "2023年2月29日不存在（2023年2月只有28天）"),
        (["--last-year", "-1"], "bad_count", "--last-year"),
        (["--si-payers", "很多"], "bad_count", "--si-payers"),
    ],
)
def test_bad_arguments_exit_2_with_the_fix(capsys, good_roster, args, code, words):
    status, out, err = hubao(capsys, "check", good_roster, *args, "--json")
    assert status == 2
    assert json.loads(out)["error"]["code"] == code
    assert words in err


def test_the_report_may_not_overwrite_the_uploaded_file(capsys, good_roster):
    status, _, err = hubao(capsys, "check", good_roster, "--report", good_roster)
    assert status == 2 and "原文件" in err


def test_an_unwritable_output_exits_2(capsys, tmp_path, good_roster):
    status, _, err = hubao(capsys, "check", good_roster, "--clean", tmp_path / "无" / "x.xlsx")
    assert status == 2 and "无法保存" in err


def test_the_summary_categories_add_up_to_the_people_who_can_be_imported(capsys, tmp_path):
    rows = [row_values(n, seq=i) for i, n in enumerate(people(3), start=1)]
    rows.append(row_values("3101011990010112", seq=4))  # an error row is not categorised
    path = csv_file(tmp_path / "名单.csv", rows)
    _, out, _ = hubao(capsys, "check", path, "--as-of", "2023-07-01")
    assert "共4行：可以导入3人，有错误1行" in out
    assert "可以导入的3人分类：职保在职人员3人，非职保人员（未超龄）0人" in out
