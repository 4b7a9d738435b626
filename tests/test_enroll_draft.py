"""The enrollment draft is one typed object kept in the flow's slots."""

from flows.enroll.model import Draft, Finding, Member
from rules.people import Category, decided_category


def test_a_draft_saved_in_the_earlier_layout_loads():
    slots = {
        "people": [
            {"row": 2, "masked": "3101**1", "hash": "h2", "si": True, "over": False,
             "keep": False, "conflict": True, "elsewhere": False},
        ],
        "si_rows": {"3": {"masked": "3101**2", "hash": "h3", "over": False,
                          "elsewhere": False, "blank": True}},
        "errors": {"4": ["【姓名】姓名不能为空"]},
    }  # fmt: skip
    draft = Draft.load(slots)
    assert draft.people[0].elsewhere and not draft.people[0].conflict  # a warning now
    assert draft.unsettled[3].member(3).si
    assert [f.text() for f in draft.findings[4]] == ["【姓名】姓名不能为空"]


def test_a_saved_draft_loads_as_it_was():
    draft = Draft(
        people=[Member(row=2, masked="m", hash="h", si=False, over=False)],
        findings={5: [Finding(column="姓名", code="missing_required", message="必填")]},
        sealed="token",
    )
    slots: dict[str, object] = {}
    draft.save(slots)
    again = Draft.load(slots)
    assert again.people == draft.people and again.sealed == "token"
    assert again.findings[5][0].text() == "【姓名】必填"
    assert again.counts() == {Category.ZHIBAO: 0, Category.NON_ZHIBAO: 1}


def test_a_persons_category_follows_the_decisions_made_in_chat():
    assert decided_category(social_insurance=False, over_age=False, kept=False) is (
        Category.NON_ZHIBAO
    )
    assert decided_category(social_insurance=True, over_age=True, kept=False) is (
        Category.OVER_AGE
    )
    assert decided_category(social_insurance=True, over_age=True, kept=True) is Category.ZHIBAO
