"""`hubao faq eval`: how many questions of a question set get the right answer, and how many
out-of-scope questions are not answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from faq.evaluate import Case, evaluate, read_cases

from helpers import faq_service

SHARED_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


@pytest.mark.skipif(not SHARED_EVAL.exists(), reason="../shared/eval is not beside the repo")
def test_faq_eval_prints_accuracy(capsys):
    dev, oos = SHARED_EVAL / "faq_dev.jsonl", SHARED_EVAL / "faq_dev_oos.jsonl"
    assert main(["faq", "eval", str(dev), "--oos", str(oos)]) == 0
    out = capsys.readouterr().out
    assert "top-1 accuracy" in out and "out-of-scope not answered" in out


def test_a_question_set_is_read_one_json_line_a_question(tmp_path):
    file = tmp_path / "set.jsonl"
    lines = [
        {"q": "忘记密码怎么办", "expect": [["邮箱", "email"], ["密码"]]},
        {"q": "明天会下雨吗"},
    ]
    file.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", "utf-8")
    assert read_cases(file) == [
        Case("忘记密码怎么办", (("邮箱", "email"), ("密码",))),
        Case("明天会下雨吗", ()),
    ]


def test_an_answer_counts_only_with_a_phrase_of_every_expected_group():
    right = Case("忘记密码怎么办", (("shzgh@gobestsoft.com",),))
    wrong = Case("忘记密码怎么办", (("shzgh@gobestsoft.com",), ("no such phrase",)))
    report = evaluate(faq_service(), [right, wrong])
    assert (report.total, report.correct, report.accuracy) == (2, 1, 0.5)
    assert [case for case, _ in report.failures] == [wrong]


def test_out_of_scope_questions_count_when_they_are_not_answered():
    oos = [Case("明天会下雨吗", ()), Case("忘记密码怎么办", ())]
    report = evaluate(faq_service(), [], oos)
    assert (report.oos_total, report.oos_unanswered, report.oos_rate) == (2, 1, 0.5)
    assert [question for question, _ in report.oos_failures] == ["忘记密码怎么办"]
