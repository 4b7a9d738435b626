"""Conversations in a policy year added by the operators: a 2024 year installed beside the
packaged 2023 answers 2024's dates with its own figures; a draft is never used; a year
past the official holiday calendar gives working-day dates as marked estimates."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest

from flows.engine import Engine
from flows.messages import Incoming
from flows.storage import ConversationKey, MemoryStorage
from rules.datafile import parse_yaml
from rules.policy import PolicyYear, install_years, policy_years

from helpers import button, engine, faq_service, joined, key, roster_upload, text, upload

NEW_ACCOUNT = "31602300009990001"


def _shift(value: Any, years: int) -> Any:
    """``value`` with every date moved ``years`` years (29 February to the 28th)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        try:
            return value.replace(year=value.year + years)
        except ValueError:
            return value.replace(year=value.year + years, day=28)
    if isinstance(value, dict):
        return {k: _shift(v, years) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, years) for v in value]
    return value


def _year(year: int, status: str = "published") -> PolicyYear:
    """2023's data moved to ``year``, with A0 at 130 (65 for half a year) and a new account."""
    source = resources.files("rules").joinpath("data", "years", "2023.yaml")
    data = _shift(copy.deepcopy(parse_yaml(source.read_text(encoding="utf-8"))), year - 2023)
    data["year"], data["status"] = year, status
    full, half = data["pricing"]
    full["prices"]["A0"], half["prices"]["A0"] = "130", "65"
    data["payment"]["account"] = NEW_ACCOUNT
    return PolicyYear.model_validate(data)


@pytest.fixture
def installed() -> Iterator[None]:
    install_years([_year(2024)])
    yield
    install_years([])


@pytest.fixture
def draft_only() -> Iterator[None]:
    install_years([_year(2024, status="draft")])
    yield
    install_years([])


@pytest.fixture
def far_year() -> Iterator[None]:
    install_years([_year(2027)])
    yield
    install_years([])


async def say(bot: Engine, message: Incoming) -> str:
    return joined(await bot.handle(message))


async def enroll(bot: Engine, who: ConversationKey, code: str = "有") -> str:
    """A unit of three enrolling A0 B0 C0 today: what the handler reads on the way, then
    the summary."""
    said = []
    steps = ["我要参保", "没有", "今天", "有", code, "填过了", "上海测试有限公司"]
    for words in steps + (["先继续准备名单"] if code == "没有" else []):
        said.append(await say(bot, text(who, words)))
    await bot.handle(upload(who, *roster_upload({"people": 3})))
    await bot.handle(button(who, "v:done"))
    await bot.handle(text(who, "3"))
    return "\n".join(said) + "\n" + await say(bot, text(who, "A0 B0 C0"))


async def test_a_quote_on_a_date_of_the_new_year_uses_its_prices(installed):
    bot, who = engine(MemoryStorage(), dt.date(2024, 7, 10)), key()
    reply = await say(bot, text(who, "3个人 A0B0C0 今天提交 帮我算"))
    # 130 + 55 + 15 less the trio's 10: 190 a person.
    assert "2024年度保费测算" in reply and "合计：570元" in reply


async def test_coverage_dates_on_a_date_of_the_new_year_come_from_its_data(installed):
    bot, who = engine(MemoryStorage(), dt.date(2024, 7, 10)), key()
    reply = await say(bot, text(who, "7月15号交名单什么时候开始保"))
    assert "2024年度：2024年7月15日提交" in reply  # the operators' year says which it is
    assert "2024年7月16日" in reply and "2025年6月30日" in reply


async def test_an_enrollment_in_the_new_year_sums_its_figures_and_dates(installed):
    bot, who = engine(MemoryStorage(), dt.date(2024, 7, 10)), key()
    summary = await enroll(bot, who)
    assert "合计：570元" in summary
    assert "2024年7月11日" in summary and "2025年6月30日" in summary
    assert NEW_ACCOUNT in summary


async def test_knowledge_base_answers_follow_the_year_of_the_conversation(installed):
    new, old = (
        engine(MemoryStorage(), dt.date(2024, 7, 10)),
        engine(MemoryStorage(), dt.date(2023, 7, 10)),
    )
    assert NEW_ACCOUNT in await say(new, text(key(), "保费交到哪里"))
    assert "31602300008022150" in await say(old, text(key(), "保费交到哪里"))
    assert "130" in await say(new, text(key(), "A0多少钱"))
    assert "130" not in await say(old, text(key(), "A0多少钱"))


async def test_2023_dates_are_unchanged_with_a_new_year_installed(installed):
    bot, who = engine(MemoryStorage(), dt.date(2023, 7, 10)), key()
    assert "合计：540元" in await enroll(bot, who)
    coverage = await say(bot, text(key("u2"), "7月15号交名单什么时候开始保"))
    assert "2023年7月15日提交" in coverage and "年度：" not in coverage


async def test_a_draft_year_is_never_used(draft_only):
    assert [y.year for y in policy_years()] == [2023]
    bot, who = engine(MemoryStorage(), dt.date(2024, 7, 10)), key()
    reply = await say(bot, text(who, "3个人 A0B0C0 今天提交 帮我算"))
    assert "不在已知的保障年度内" in reply
    assert "570" not in reply
    assert NEW_ACCOUNT not in await say(bot, text(key("u2"), "保费交到哪里"))
    started = await say(bot, text(key("u4"), "我要参保"))
    assert "不在已知的保障年度内" in started and "2024年度" not in started
    asked = await say(bot, text(key("u3"), "2024年的保费标准是多少"))
    assert "130" not in asked and "2024" in asked


async def test_review_dates_past_the_holiday_calendar_are_marked_as_estimates(far_year):
    bot, who = engine(MemoryStorage(), dt.date(2027, 7, 12)), key()
    summary = await enroll(bot, who, code="没有")
    assert "合计：570元" in summary
    assert "2027年的法定节假日安排还没有收录" in summary
    assert "只按周末推算" in summary


async def test_dates_the_calendar_covers_carry_no_estimate_notice(installed):
    bot, who = engine(MemoryStorage(), dt.date(2024, 7, 10)), key()
    assert "只按周末推算" not in await enroll(bot, who, code="没有")


def test_the_knowledge_base_answers_in_the_figures_of_the_year_asked_for(installed):
    faq = faq_service()
    new = next(y for y in policy_years() if y.year == 2024)
    assert NEW_ACCOUNT in faq.ask("保费交到哪里", policy=new).text
    assert NEW_ACCOUNT not in faq.ask("保费交到哪里", policy=policy_years()[0]).text
    entry = faq.ask("保费交到哪里").entry
    assert entry is not None
    assert NEW_ACCOUNT in faq.answer_entry(entry, new).text
    # Without a year the newest published one answers: here the installed 2024.
    assert NEW_ACCOUNT in faq.ask("保费交到哪里").text


async def test_the_hotline_console_reads_out_the_account_of_the_year_in_force(installed, tmp_path):
    from bot.web.console import search
    from bot.web.context import CONTEXT

    from web_app import web_client

    accounts = {}
    for day in (dt.date(2023, 7, 10), dt.date(2024, 7, 10)):
        async with web_client(tmp_path, today=day) as client:
            found = search(client.server.app[CONTEXT], "保费汇到哪个账户")
        accounts[day.year] = NEW_ACCOUNT in found[0].answer
    # A caller enrolling in 2023 still hears 2023's account, though 2024 is the newest year.
    assert accounts == {2023: False, 2024: True}
