"""The one text catalog: every sentence a user reads is in rules/data/texts/*.yaml."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
import pytest

from rules.catalog import CatalogError, load, say, sources
from rules.policy import latest_policy_year

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rules", "faq", "sheets", "flows", "bot")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Chinese sentence punctuation: a literal holding one is a sentence, not a vocabulary word.
PUNCT = re.compile(r"[。，！？；：、…“”‘’（）《》【】]")
# What makes a literal a regular expression's vocabulary, not a sentence: alternation,
# a (?...) group, a [...] class, a \\s-style escape, an anchor.
REGEX = re.compile(r"\(\?|\||\\[sdwSDWbuzAZ]|\[[^\]]+\]|\^|\$$")


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    found.add(id(stmt.value))
    return found


def sentences_in(path: Path) -> list[str]:
    """String literals (not docstrings) that read as Chinese sentences: Chinese punctuation,
    or four or more Chinese characters, unless they are a regular expression's vocabulary."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    return [
        f"{path.name}:{node.lineno}: {node.value[:40]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and (chinese := len(CJK.findall(node.value)))
        and not REGEX.search(node.value)
        and (PUNCT.search(node.value) or chinese >= 4)
    ]


def test_no_user_facing_sentence_in_python_code():
    assert [s for path in _sources() for s in sentences_in(path)] == []


def test_the_sentence_check_finds_a_sentence_and_spares_vocabularies(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        '"""文档说明可以有中文。"""\n'
        'MESSAGE = "名单已经收到，请稍候"\n'
        'LONG = "请上传参保名单"\n'
        'WORDS = r"(?:不对|错了|改成)"\n'
        'SEPARATORS = r"[，。；]"\n'
        'YES = "对"\n',
        encoding="utf-8",
    )
    assert sentences_in(planted) == [
        "planted.py:2: 名单已经收到，请稍候",
        "planted.py:3: 请上传参保名单",
    ]


def _said_keys() -> dict[str, str]:
    keys = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in {"say", "render"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                keys[node.args[0].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return keys


def test_every_key_the_code_says_is_in_the_catalog():
    missing = {k: where for k, where in _said_keys().items() if k not in sources()}
    assert missing == {}


def test_every_entry_is_a_valid_template():
    env = jinja2.Environment()
    broken = {}
    for key, text in sources().items():
        try:
            env.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            broken[key] = str(exc)
    assert broken == {}


def test_a_key_defined_in_two_files_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("greeting: 您好\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("greeting: 你好\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"greeting.*a\.yaml.*b\.yaml"):
        load(sorted(tmp_path.iterdir()))


def test_sentences_take_the_figures_of_the_policy_year_asked_for():
    newest = latest_policy_year()
    other = newest.model_copy(update={"year": newest.year + 7})
    key = next(k for k, v in sources().items() if "{{ year }}" in v)
    assert str(newest.year + 7) in say(key, policy=other, **_blank_values(key))
    assert str(newest.year + 7) not in say(key, **_blank_values(key))


def _blank_values(key: str) -> dict[str, object]:
    """Empty values for the variables an entry takes besides the policy year's."""
    env = jinja2.Environment()
    from jinja2 import meta

    from rules.context import build_context

    wanted = meta.find_undeclared_variables(env.parse(sources()[key])) - set(build_context())
    return dict.fromkeys(wanted, "")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_400_lines(package):
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize("pattern", ["*.j2", "*.js", "*.css"])
def test_page_templates_and_scripts_take_their_words_from_the_catalog(pattern):
    # Scripts get their words from data-* attributes the templates fill from the catalog.
    with_chinese = {
        str(p.relative_to(ROOT)): CJK.findall(p.read_text(encoding="utf-8"))[:5]
        for pkg in PACKAGES
        for p in (ROOT / pkg).rglob(pattern)
        if CJK.search(p.read_text(encoding="utf-8"))
    }
    assert with_chinese == {}
