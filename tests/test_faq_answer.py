"""What a user reads for a question: the answer with its related questions, a choice of
questions, the hotline, or where else to ask (another agency's business, a year without data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

from helpers import faq_service

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def ask(question: str):
    return faq_service().ask(question)


def test_figures_in_answers_come_from_the_policy_year_data():
    answer = ask("A0多少钱")
    assert "120" in answer.text and "{{" not in answer.text


def test_an_answer_lists_its_related_questions_and_offers_them_as_choices():
    answer = ask("忘记密码怎么办")
    assert answer.suggestions
    assert answer.text.startswith(answer.body)
    assert "相关问题：" in answer.text and "相关问题：" not in answer.body
    for suggestion in answer.suggestions:
        assert faq_service().kb.by_id[suggestion.entry].question == suggestion.question
        assert suggestion.question in answer.text


def test_a_chosen_question_is_answered_with_its_own_answer():
    service = faq_service()
    entry = service.kb.by_id["code_existing_no_need"]
    answer = service.answer_entry(entry.id)
    assert answer.status == "answer" and answer.entry == entry.id
    assert answer.body == service.kb.rendered[entry.id]


@pytest.mark.parametrize("question", ["明天会下雨吗", "公积金怎么提取", "给我讲个笑话"])
def test_out_of_scope_questions_fall_back_to_the_hotline(question):
    answer = ask(question)
    assert answer.status == "fallback"
    assert "12351" in answer.text


def test_ask_json_and_batch(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path))
    assert main(["ask", "忘记密码怎么办", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "answer" and out["entry"] and "suggestions" in out
    batch = tmp_path / "q.txt"
    batch.write_text("导入模板最多多少人\n明天会下雨吗\n", encoding="utf-8")
    assert main(["ask", "--batch", str(batch)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["status"] for x in lines] == ["answer", "fallback"]


def test_hubao_ask_lists_possibilities_without_asking_for_a_reply(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path))
    assert main(["ask", "保障"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("您可能想问：") and "回复" not in out and "序号" not in out
    suggested = [line[2:] for line in out.splitlines() if line.startswith("- ")]
    assert 1 <= len(suggested) <= 3 and all(q.endswith("？") for q in suggested)
    assert "12351" in out
    assert main(["ask", "保障", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "clarify" and "回复" not in answer["answer"]
    assert [s["question"] for s in answer["suggestions"]] == suggested
    # In chat, where a choice can be answered, the numbered choice stays.
    assert "请回复序号选择" in ask("保障").text


@pytest.mark.parametrize(
    "question",
    ["社保卡密码忘了怎么办", "公积金怎么提取", "医保卡丢了去哪补办", "个税APP怎么填"],
)
def test_another_agencys_business_is_sent_there_not_matched(question):
    answer = faq_service().ask(question)
    assert answer.status == "fallback" and answer.entry is None
    assert "其他部门的业务" in answer.text


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("退休金每个月能拿多少", "12333"),
        ("社保缴费基数怎么调", "12333"),
        ("工伤认定要准备什么", "12333"),
        ("失业金怎么领", "12333"),
        ("公积金贷款能贷多少", "12329"),
        ("个人所得税怎么申报", "12366"),
        ("营业执照年检怎么做", "12345"),
        ("医保报销比例是多少", "医保经办机构"),
        ("重疾险理赔要多久", "保险公司"),
    ],
)
def test_another_agencys_business_names_the_place_to_ask(question, place):
    answer = faq_service().ask(question)
    assert answer.status == "fallback" and answer.entry is None
    assert answer.place is not None and place in answer.place
    assert place in answer.text and "12351" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "退休人员能参保吗",
        "超龄员工能参保吗",
        "医保享受在职待遇要勾吗",
        "社保尚在缴金是什么意思",
        "个人养老金核定表什么时候用",
        "申请编码要传营业执照吗",
        "意外险有没有等待期",
        "员工辞职了社保没减员",
        "外地医保参加A2有起付线补助吗",
    ],
)
def test_the_programs_own_questions_are_not_sent_elsewhere(question):
    answer = faq_service().ask(question)
    assert answer.place is None and answer.status == "answer"


def test_no_in_scope_question_of_the_question_sets_is_sent_elsewhere():
    data = Path(__file__).parent / "data"
    files = [data / f"faq_{n}.jsonl" for n in ("paraphrases", "tune", "holdout")]
    service = faq_service()
    for file in [*files, SHARED_EVAL / "faq_dev.jsonl"]:
        if not file.exists():
            continue
        for line in file.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["q"]
            assert service.ask(question).place is None, question


def test_ask_json_names_the_place_for_another_agencys_business(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path))
    assert main(["ask", "公积金怎么提取", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "fallback" and "12329" in out["place"]


def test_a_year_without_data_is_said_so_and_known_years_are_answered():
    unknown = faq_service().ask("2025年度的保费标准是多少")
    assert unknown.status == "fallback" and "还没有2025年的" in unknown.text
    assert "2023年7月1日至2024年6月30日" in unknown.text
    known = faq_service().ask("2024年1月开始参保的保费怎么算")
    assert known.status != "fallback"
    # A past year named as history, not asked about its figures, is matched as usual.
    assert (
        faq_service().ask("2022年参保过，今年还要申请参保编码吗").entry == "code_existing_no_need"
    )
