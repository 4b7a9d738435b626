"""Dependencies point inward: bot -> flows -> (faq, sheets) -> rules; rules imports none."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "rules": {"faq", "sheets", "flows", "bot"},
    "faq": {"sheets", "flows", "bot"},
    "sheets": {"faq", "flows", "bot"},
    "flows": {"bot", "telegram", "aiogram"},
}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_inward(package):
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in (ROOT / package).rglob("*.py")
        if (bad := imported_top_levels(path) & FORBIDDEN[package])
    }
    assert offenders == {}
