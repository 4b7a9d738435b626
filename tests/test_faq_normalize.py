"""Reading a question as the program's words, whatever the handler's input method made of it."""

from __future__ import annotations

from faq.kb import load_kb
from faq.normalize import Canonicalizer, fix_typos, normalize


def test_normalize_makes_full_width_half_width_and_joins_plan_codes():
    assert normalize("Ａ ０，Ｂ０！") == "a0 b0"


def test_traditional_characters_are_read_as_simplified():
    assert normalize("忘記密碼怎麼辦") == normalize("忘记密码怎么办") == "忘记密码怎么办"
    assert normalize("參保號碼") == "参保号码"


def test_homophone_slips_of_an_input_method_are_put_right():
    assert fix_typos("宝费多少，其保日期是哪天") == "保费多少，起保日期是哪天"
    assert normalize("及时参保怎么办理") == "即时参保怎么办理"
    assert fix_typos("好滴") == "好的"


def test_words_that_are_already_right_are_left_alone():
    assert fix_typos("保费多少，起保日期是哪天") == "保费多少，起保日期是哪天"


def test_jargon_is_read_as_the_canonical_term_and_never_rewritten_twice():
    canonicalize = Canonicalizer(load_kb().synonyms)
    assert canonicalize("投保码") == "参保编码"
    # "项目" is a variant of 保障项目: the canonical term itself stays as it is.
    assert canonicalize("保障项目") == "保障项目"
    assert canonicalize("项目") == "保障项目"
