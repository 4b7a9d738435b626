"""Answering handlers' questions from the knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from faq.export import export
from faq.kb import load_kb
from faq.lint import lint
from faq.normalize import normalize

from helpers import faq_service

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def ask(question: str):
    return faq_service().ask(question)


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("忘记密码怎么办", "shzgh@gobestsoft.com"),
        ("忘記密碼怎麼辦", "shzgh@gobestsoft.com"),  # traditional characters
        ("投保码忘了去哪查", "12351"),  # jargon synonym of 参保编码
        ("a 0 多少钱", "120"),  # plan code typed with a space
        ("保费打到哪个账户", "31602300008022150"),
    ],
)
def test_questions_in_handlers_words_get_the_answer(question, phrase):
    answer = ask(question)
    assert answer.status == "answer"
    assert phrase in answer.text


def test_figures_in_answers_come_from_the_policy_year_data():
    answer = ask("A0多少钱")
    assert "120" in answer.text and "{{" not in answer.text


@pytest.mark.parametrize("question", ["明天会下雨吗", "公积金怎么提取", "给我讲个笑话"])
def test_out_of_scope_questions_fall_back_to_the_hotline(question):
    answer = ask(question)
    assert answer.status == "fallback"
    assert "12351" in answer.text


def test_an_unsure_match_offers_up_to_three_questions_to_choose_from():
    answer = ask("保障")
    assert answer.status == "clarify"
    assert 1 <= len(answer.suggestions) <= 3
    assert answer.suggestions[0].question in answer.text


def test_small_talk_never_wins_a_business_question():
    assert ask("你好").entry == "smalltalk_hello"
    answer = ask("你好，请问忘记密码怎么办")
    assert answer.entry != "smalltalk_hello" and answer.status == "answer"


def test_five_megabytes_of_text_is_answered_without_error():
    assert ask("密码" * 2_500_000).status in {"answer", "clarify", "fallback"}


def test_normalize_makes_full_width_half_width_and_joins_plan_codes():
    assert normalize("Ａ ０，Ｂ０！") == "a0 b0"


def test_shipped_knowledge_base_passes_lint():
    kb = load_kb()
    assert sum(1 for _ in kb.business) > 60
    assert lint(kb) == []


def test_lint_catches_a_hand_written_figure_and_a_missing_related(tmp_path):
    entry = {
        "id": "price_a0",
        "question": "A0多少钱？",
        "alternates": ["A0的价格", "住院基本保障多少钱", "A0每人多少", "A0保费"],
        "answer": "A0每人每年120元。",
        "related": ["no_such_entry"],
        "source": "一览表",
    }
    (tmp_path / "plans.yaml").write_text(yaml.safe_dump([entry], allow_unicode=True), "utf-8")
    codes = {p.code for p in lint(load_kb(tmp_path))}
    assert {"hand_written_figure", "bad_related"} <= codes


def test_html_export_has_a_table_of_contents_and_the_alternates_only_on_request():
    html = export(load_kb(), "html").decode("utf-8")
    assert "目录" in html and 'href="#' in html and "其他问法" not in html
    assert "其他问法" in export(load_kb(), "html", with_phrasings=True).decode("utf-8")


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


@pytest.mark.skipif(not SHARED_EVAL.exists(), reason="../shared/eval is not beside the repo")
def test_faq_eval_prints_accuracy(capsys):
    dev, oos = SHARED_EVAL / "faq_dev.jsonl", SHARED_EVAL / "faq_dev_oos.jsonl"
    assert main(["faq", "eval", str(dev), "--oos", str(oos)]) == 0
    out = capsys.readouterr().out
    assert "top-1 accuracy" in out and "out-of-scope not answered" in out


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
