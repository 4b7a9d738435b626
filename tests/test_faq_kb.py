"""Loading the knowledge base: the shipped files load, and a broken file is refused with a
message that names the file and the problem, so the hotline team can fix it."""

from __future__ import annotations

import pytest
import yaml

from faq.kb import KnowledgeBaseError, load_kb

ENTRY = {
    "id": "price_a0",
    "question": "A0多少钱？",
    "alternates": ["A0的价格"],
    "answer": "A0每人每年{{ price.A0 }}元。",
    "source": "一览表",
}


def write(folder, name: str, entries: object) -> None:
    (folder / name).write_text(yaml.safe_dump(entries, allow_unicode=True), "utf-8")


def test_the_shipped_knowledge_base_has_every_topic_and_fills_in_the_figures():
    kb = load_kb()
    topics = {e.topic for e in kb.business}
    assert {"login", "code", "roster", "plans", "payment"} <= topics
    assert all("{{" not in text and "{%" not in text for text in kb.rendered.values())


def test_an_answer_template_takes_the_policy_years_figures(tmp_path):
    write(tmp_path, "plans.yaml", [ENTRY])
    kb = load_kb(tmp_path)
    assert kb.rendered["price_a0"] == "A0每人每年120元。"


def test_an_entry_without_an_answer_is_refused_naming_the_file_and_entry(tmp_path):
    write(tmp_path, "plans.yaml", [ENTRY, {**ENTRY, "id": "second", "answer": ""}])
    with pytest.raises(KnowledgeBaseError, match=r"plans\.yaml entry 2"):
        load_kb(tmp_path)


def test_an_id_used_twice_is_refused(tmp_path):
    write(tmp_path, "plans.yaml", [ENTRY])
    write(tmp_path, "dates.yaml", [ENTRY])
    with pytest.raises(KnowledgeBaseError, match="price_a0 is used twice"):
        load_kb(tmp_path)


def test_a_file_that_is_not_yaml_is_refused_naming_the_file(tmp_path):
    (tmp_path / "login.yaml").write_text("- id: [unclosed\n", "utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"login\.yaml: not valid YAML"):
        load_kb(tmp_path)
