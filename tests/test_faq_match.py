"""Matching a handler's question to a knowledge-base entry: answer, clarify or fall back."""

from __future__ import annotations

import pytest

from helpers import faq_service


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


def test_a_request_to_enroll_starts_the_flow_in_chat_but_not_in_the_hotlines_tools():
    in_chat = faq_service().ask("我要参保", intents=True)
    assert in_chat.status == "answer" and in_chat.intent == "enroll"
    for_hotline = faq_service().ask("我要参保")
    assert for_hotline.intent is None
    assert all(not s.entry.startswith("intent_") for s in for_hotline.suggestions)
