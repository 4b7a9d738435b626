"""What the knowledge base tells a handler, in the handbook's terms: an answer that depends
on a condition leads with the case asked, a yes/no question is answered in its own terms,
and a question about a batch status gets the fact that matters in that status."""

from __future__ import annotations

import json
import re

import pytest

from bot.cli import main

from helpers import faq_service


def answer_text(question: str) -> str:
    answer = faq_service().ask(question, can_reply=False)
    assert answer.status == "answer", (question, answer.text)
    return answer.body


def lead(text: str) -> str:
    """The answer's opening clause: what a reader takes as the answer."""
    return re.split(r"[：；。\n]", text, maxsplit=1)[0]


@pytest.mark.parametrize(
    "question",
    [
        "三个基本一起买半年的还有优惠吗",
        "按半年交的话三个基本还有优惠吗",
        "明年2月起保A0B0C0一起买优惠吗",
        "半年档三个基本还优惠吗",
    ],
)
def test_half_year_trio_questions_are_told_no_first(question):
    opening = lead(answer_text(question))
    assert "半年" in opening and "没有" in opening, opening
    assert not opening.startswith("有")


@pytest.mark.parametrize("question", ["A0B0C0一起买有优惠吗", "基本三项打包有优惠吗"])
def test_trio_discount_leads_with_the_condition_it_holds_under(question):
    text = answer_text(question)
    assert lead(text).startswith("按全年标准缴费的有")
    assert "按半年标准缴费的没有" in text and "180" in text


@pytest.mark.parametrize("question", ["起付线补助非职保有没有", "非职保员工有没有起付线补助"])
def test_a_have_or_not_question_is_answered_with_have_or_not(question):
    opening = lead(answer_text(question))
    assert "没有起付线补助" in opening and not opening.startswith("不能")


@pytest.mark.parametrize(
    ("question", "opening"),
    [
        ("超龄员工能参保吗", "仍在缴费的在职超龄人员可以保留参保"),
        ("女职工56岁还在缴社保能参加吗", "仍在缴费的在职超龄人员可以保留参保"),
        ("不选A0能选A1吗", "要有基本保障，但不一定是A0"),
        ("即时参保还要选项目吗", "参加过集中参保的单位不能换"),
        ("已退休的员工要移除吗", "退休人员不能参保"),
        ("集中参保办完了还能重新来吗", "不能"),
    ],
)
def test_conditional_answers_lead_with_the_case(question, opening):
    assert opening in lead(answer_text(question))


# --- status questions: the key fact -------------------------------------------------------

ROSTER_LOCKED = [
    "状态已经是缴费凭证待审核了，还能改名单吗",
    "缴费凭证待审核了名单能改吗",
    "凭证在审核中还能删人吗",
    "凭证传了以后发现名单有错还能改吗",
]
AFTER_SUCCESS = [
    "参保成功了还要做什么",
    "参保成功以后还需要干什么",
    "显示参保成功了还有什么要办的",
    "参保成功了下一步干嘛",
]
DELETE_BATCH = [
    "现在是清册待校验，能整个删掉重来吗",
    "清册待校验的批次想全部删了重新弄",
]
ADD_PEOPLE = [
    "参保成功了还能加人吗",
    "已经参保成功了漏了一个人还能补吗",
    "参保成功后名单里还能加人吗",
]


@pytest.mark.parametrize("question", ROSTER_LOCKED)
def test_after_the_voucher_is_uploaded_the_roster_is_locked_and_what_still_can_be_done(question):
    text = answer_text(question)
    assert text.startswith("不能") and "锁定" in text
    assert "即时参保" in text and "新增专用收据" in text and "12351" in text


@pytest.mark.parametrize("question", AFTER_SUCCESS)
def test_after_success_the_receipt_steps_are_given(question):
    text = answer_text(question)
    assert "新增专用收据" in text and "确认提交" in text and "提交审核" in text


@pytest.mark.parametrize("question", DELETE_BATCH)
def test_starting_over_is_batch_delete_with_its_conditions(question):
    text = answer_text(question)
    assert "批次删除" in text and "全部删除" in text
    assert "清册校验不通过" in text  # the other status it works in


@pytest.mark.parametrize("question", ADD_PEOPLE)
def test_missed_staff_join_through_instant_enrollment(question):
    text = answer_text(question)
    assert "即时参保办理" in text and "不是加进原来的批次" in text


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        (ROSTER_LOCKED[0], ["锁定", "即时参保"]),
        (AFTER_SUCCESS[0], ["新增专用收据", "提交审核"]),
        (DELETE_BATCH[0], ["批次删除", "清册校验不通过"]),
        (ADD_PEOPLE[0], ["即时参保"]),
    ],
)
def test_hubao_ask_gives_the_key_fact(question, facts, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path))
    assert main(["ask", question, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "answer"
    assert all(f in out["answer"] for f in facts)
