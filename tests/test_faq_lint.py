"""The knowledge-base lint: notes written for ourselves and bare yes/no openings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from faq.kb import load_kb
from faq.lint import internal_notes, lint, verdict_mismatches


def _kb_with(tmp_path: Path, **entry: object):
    base = {
        "id": "subsidy",
        "question": "非职保人员能享受起付线补助吗？",
        "alternates": [
            "起付线补助谁能享受",
            "非职保起付线补助",
            "外地医保的起付线补助",
            "起付线补助范围",
        ],
        "answer": "非职保人员不享受起付线补助。",
        "source": "一、参保要点",
    }
    (tmp_path / "plans.yaml").write_text(
        yaml.safe_dump([{**base, **entry}], allow_unicode=True), "utf-8"
    )
    return load_kb(tmp_path)


@pytest.mark.parametrize(
    "note",
    [
        "其他浏览器手册未作说明。",
        "手册没有写明选错后的改正办法；",
        "其他账号归属问题手册未作说明，可拨打12351热线咨询。",
        "手册对小单位达不到该比例时的处理没有另作说明，请核对名单后再校验。",
        "现场地址等信息手册未写明。",
        "已进入“缴费凭证待上传”状态的，手册未直接说明。",
    ],
)
def test_a_note_about_what_the_handbook_lacks_is_a_lint_problem(tmp_path, note):
    assert internal_notes(note)
    kb = _kb_with(tmp_path, answer=f"非职保人员不享受起付线补助。{note}")
    assert "internal_note" in {p.code for p in lint(kb)}


@pytest.mark.parametrize(
    "text",
    [
        "详细说明可到下载中心→《参保手册》查看，手册内有登录的详细图解。",
        "各单位情况说明格式不同，手册样式仅供参考。",
        "请拨打12351热线咨询。",
    ],
)
def test_pointing_to_the_handbook_is_not_a_note(text):
    assert internal_notes(text) == []


def test_a_bare_no_to_a_question_asked_as_you_have_or_not_is_a_lint_problem(tmp_path):
    kb = _kb_with(tmp_path, answer="不能。非职保人员不享受起付线补助。",
                  alternates=["非职保有没有起付线补助", "起付线补助谁能享受", "非职保起付线补助",
                              "起付线补助范围"])  # fmt: skip
    problems = [p for p in lint(kb) if p.code == "verdict_form"]
    assert [p.entry for p in problems] == ["subsidy"]
    assert "非职保有没有起付线补助" in problems[0].message


def test_a_statement_that_opens_the_answer_answers_every_form():
    phrasings = (
        "非职保有没有起付线补助",
        "非职保人员能享受起付线补助吗？",
        "起付线补助要不要单独交钱",
    )
    assert verdict_mismatches("非职保人员没有起付线补助：只有职保人员享受。", phrasings) == []
    assert verdict_mismatches("不能。只有职保人员享受。", phrasings) == [
        "非职保有没有起付线补助",
        "起付线补助要不要单独交钱",
    ]
    assert verdict_mismatches("没有。只有职保人员享受。", ("起付线补助是什么",)) == []


def test_the_shipped_answers_have_no_notes_and_no_mismatched_verdicts():
    kb = load_kb()
    problems = [p for p in lint(kb) if p.code in {"internal_note", "verdict_form"}]
    assert problems == []
    for text in kb.rendered.values():
        assert internal_notes(text) == [], text


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


@pytest.mark.parametrize(
    ("typed", "figure"),
    [
        ("每人每年120元", "'120元'"),
        ("免责期30天", "'30天'"),
        ("审核10个工作日", "'10个工作日'"),
        ("满60周岁", "'60周岁'"),
    ],
)
def test_each_kind_of_figure_typed_by_hand_is_named(tmp_path, typed, figure):
    kb = _kb_with(tmp_path, answer=f"非职保人员的情况：{typed}。")
    found = [p.message for p in lint(kb) if p.code == "hand_written_figure"]
    assert any(m.startswith(figure) for m in found), found
