"""The policy year as a table for the hotline (policy show) and what changed (policy diff)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rules.policy import PolicyYear, packaged_years
from rules.policy_roll import roll_forward
from rules.policy_table import diff_rows, year_rows

Y2023 = packaged_years()[0]


def test_show_rows_hold_the_figures_of_2023():
    rows = dict(year_rows(Y2023))
    assert rows["年度"] == "2023"
    assert rows["状态"] == "已发布"
    assert rows["保障期"] == "2023年7月1日 至 2024年6月30日"
    assert rows["集中参保时间"] == "2023年6月1日 至 2023年6月30日"
    assert rows["全年缴费标准 A0"] == "120元"
    assert rows["半年缴费标准 A0"] == "60元"
    assert rows["半年缴费标准 A1"] == "67.5元"
    assert rows["半年缴费标准 起保日期"] == "2024年1月1日 至 2024年6月30日"
    assert rows["全年缴费标准 三件套优惠"] == "10元"
    assert rows["收款账号"] == "31602300008022150"
    assert rows["收款单位"] == "上海市职工保障互助会"
    assert rows["缴费期限"] == "确认保费后15天内"
    assert rows["缴费凭证审核"] == "10个工作日"
    assert rows["非职保女性年龄上限（未满）"] == "55岁"
    assert rows["社保比例"] == "75% 至 100%"
    assert rows["服务热线"] == "12351"


def test_every_label_is_shown_once():
    labels = [label for label, _ in year_rows(Y2023)]
    assert len(labels) == len(set(labels))


def test_a_draft_shows_how_many_figures_wait_for_review():
    draft = PolicyYear.model_validate(roll_forward(Y2023, 2024))
    assert dict(year_rows(draft))["状态"] == f"草稿（{len(draft.review)} 项待核对）"


def test_a_published_year_shows_who_published_it_and_when():
    done = Y2023.model_copy(
        update={"published_by": "hotline-li", "published_at": dt.datetime(2024, 6, 20, 9, 30)}
    )
    rows = dict(year_rows(done))
    assert rows["发布人"] == "hotline-li"
    assert rows["发布时间"] == "2024年6月20日 09:30"


def test_diff_lists_exactly_the_changes():
    full, half = Y2023.pricing
    changed = Y2023.model_copy(
        update={
            "pricing": (
                full.model_copy(update={"prices": {**full.prices, "A0": Decimal("130")}}),
                half.model_copy(update={"prices": {**half.prices, "A0": Decimal("65")}}),
            ),
            "payment": Y2023.payment.model_copy(update={"account": "31602300008099999"}),
        }
    )
    assert diff_rows(Y2023, changed) == [
        ("全年缴费标准 A0", "120元", "130元"),
        ("半年缴费标准 A0", "60元", "65元"),
        ("收款账号", "31602300008022150", "31602300008099999"),
    ]
    assert diff_rows(Y2023, Y2023) == []


def test_diff_shows_a_row_only_one_year_has():
    full = Y2023.pricing[0]
    fewer = Y2023.model_copy(
        update={"pricing": (full.model_copy(update={"start_to": Y2023.coverage.end}),)}
    )
    rows = {label: (old, new) for label, old, new in diff_rows(Y2023, fewer)}
    assert rows["半年缴费标准 A0"] == ("60元", "")
    assert rows["全年缴费标准 起保日期"] == (
        "2023年7月1日 至 2023年12月31日",
        "2023年7月1日 至 2024年6月30日",
    )
