"""The rules' sentences come from the text catalog: every code the rules return has its
words there, and what a rule says is rendered from a key and values."""

import datetime as dt

import pytest

from rules.catalog import say
from rules.dates import MODE_LABELS, Mode
from rules.errors import NoPolicyData
from rules.ids import DocType, doc_type_from_label
from rules.people import CATEGORY_LABELS, Category
from rules.plans import check_selection
from rules.policy import latest_policy_year, policy_for_coverage_date
from rules.premium import SelectionRefused, quote_unit
from rules.roster import SUPPORTING_DOCUMENTS, Code, Document, RosterField
from rules.sentence import Sentence

POLICY = latest_policy_year()


def test_every_finding_code_has_a_label():
    assert all(code.label for code in Code)
    assert Code.MISSING_REQUIRED.label == "必填项为空"


def test_labels_are_mappings_over_their_codes():
    assert set(CATEGORY_LABELS) == set(Category)
    assert CATEGORY_LABELS[Category.ZHIBAO] == "职保在职人员"
    assert dict(MODE_LABELS) == {Mode.CENTRALIZED: "集中参保", Mode.INSTANT: "即时参保"}
    with pytest.raises(KeyError):
        CATEGORY_LABELS["retired"]


def test_every_document_has_a_name_and_every_supporting_one_a_situation():
    assert all(document.label for document in Document)
    assert all(say(f"rules.situation.{document}") for document in SUPPORTING_DOCUMENTS)


def test_a_sentence_inside_another_renders_as_its_text():
    inner = Sentence.of("rules.situation.appointment")
    outer = Sentence.of("rules.unit.supporting_reason", situation=inner)
    assert outer.text == f"如{inner.text}，按实际情况上传此件。"
    assert str(outer) == outer.text


def test_rules_errors_keep_their_key_and_values_and_render_the_message():
    with pytest.raises(NoPolicyData) as err:
        policy_for_coverage_date(dt.date(2030, 1, 1))
    assert err.value.key == "rules.error.no_policy_year"
    assert err.value.values["day"] == "2030年1月1日"
    assert err.value.message.startswith("2030年1月1日不在已知的保障年度内")
    assert POLICY.contacts.hotline in err.value.message


def test_a_refused_selection_says_every_reason_in_one_message():
    refusals = check_selection(["A1", "A1"], POLICY).refusals
    with pytest.raises(SelectionRefused) as err:
        quote_unit(["A1", "A1"], POLICY.coverage.start, {Category.ZHIBAO: 1})
    assert err.value.message == "；".join(r.message for r in refusals)
    assert [r.code for r in refusals] == ["duplicate_plan", "no_basic"]


def test_the_platform_template_names_columns_and_document_types():
    assert RosterField.ID_NUMBER.template_header == "证件号码*"
    assert doc_type_from_label("台胞证") is DocType.TAIWAN_PASS
    assert doc_type_from_label(DocType.RESIDENT_ID.value) is DocType.RESIDENT_ID
