"""`hubao policy ...` as program staff use it to add a policy year, and the operator
folder (HUBAO_POLICY_DIR) as every command that answers with figures reads it."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.policy_cli import table
from bot.settings import Settings
from rules.catalog import say
from rules.policy import install_years

ACCOUNT = "31602300008022150"  # the packaged 2023 year's account, copied forward


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HUBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HUBAO_POLICY_DIR", str(tmp_path / "policy"))
    monkeypatch.setenv("HUBAO_TODAY", "2023-07-10")
    yield tmp_path / "policy"
    install_years([])  # no test leaves its years to the next


def hubao(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def reviewed(path: Path, **changes: Any) -> None:
    """The operator's edit: every figure confirmed (``review`` emptied), ``changes`` made."""
    data = read(path)
    data["review"] = []
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value
    write(path, data)


def packaged_2023() -> dict[str, Any]:
    text = resources.files("rules").joinpath("data", "years", "2023.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


# --- where the folder is -----------------------------------------------------------------------


def test_the_folder_defaults_to_policy_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)})
    assert settings.policy_dir == tmp_path / "policy"
    given = Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path), "HUBAO_POLICY_DIR": "/srv/p"})
    assert given.policy_dir == Path("/srv/p")


# --- new, check, publish -----------------------------------------------------------------------


def test_new_writes_a_draft_with_every_copied_figure_marked(capsys, folder: Path) -> None:
    code, out, _ = hubao(capsys, "policy", "new", "2024", "--from", "2023")
    assert code == 0
    path = folder / "2024.yaml"
    data = read(path)
    assert data["year"] == 2024
    assert data["status"] == "draft"
    assert data["coverage"]["start"] == dt.date(2024, 7, 1)
    assert data["payment"]["account"] == ACCOUNT
    assert "pricing.0.prices.A0" in data["review"]
    assert str(path) in out
    assert f"{len(data['review'])} 个数值" in out
    assert "hubao policy check 2024" in out and "hubao policy publish 2024" in out


def test_new_never_overwrites_a_year_without_force(capsys, folder: Path) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    reviewed(folder / "2024.yaml")  # work the operator has done
    code, _, err = hubao(capsys, "policy", "new", "2024", "--from", "2023")
    assert code == 2
    assert "--force" in err
    assert read(folder / "2024.yaml")["review"] == []
    assert hubao(capsys, "policy", "new", "2024", "--from", "2023", "--force")[0] == 0
    assert read(folder / "2024.yaml")["review"] != []


def test_a_draft_passes_the_check_but_is_not_published(capsys, folder: Path) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    code, out, _ = hubao(capsys, "policy", "check", "2024")
    assert code == 0
    assert "review" in out

    code, out, err = hubao(capsys, "policy", "publish", "2024", "--by", "王芳")
    assert code == 2
    assert "不能发布" in out and "\n1. " in "\n" + out.split("\n", 1)[1]
    assert "没有发布" in err
    assert read(folder / "2024.yaml")["status"] == "draft"


def test_a_draft_never_answers_a_date(capsys) -> None:
    assert hubao(capsys, "policy", "new", "2024", "--from", "2023")[0] == 0
    code, _, err = hubao(capsys, "quote", "--plans", "A0", "--start", "2024-07-10")
    assert code == 2
    assert "不在已知的保障年度内" in err


def test_publish_after_review_records_who_and_when(capsys, folder: Path) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    reviewed(folder / "2024.yaml")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    code, out, _ = hubao(capsys, "policy", "publish", "2024", "--by", "王芳")
    assert code == 0
    assert "重启" in out
    data = read(folder / "2024.yaml")
    assert data["status"] == "published"
    assert data["published_by"] == "王芳"
    assert before <= data["published_at"] <= dt.datetime.now(dt.UTC)

    code, out, _ = hubao(capsys, "policy", "list")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("2024"))
    assert say("bot.policy.status.published") in row and "王芳" in row
    assert str(folder / "2024.yaml") in row

    code, out, _ = hubao(capsys, "quote", "--plans", "A0,B0,C0", "--start", "2024-07-10", "--json")
    assert code == 0
    assert json.loads(out)["total"] == 180  # the 2023 figures, confirmed for 2024


def test_a_year_past_the_calendar_is_rolled_checked_and_published(capsys, folder: Path) -> None:
    assert hubao(capsys, "policy", "new", "2027", "--from", "2023")[0] == 0
    assert read(folder / "2027.yaml")["coverage"]["start"] == dt.date(2027, 7, 1)
    assert hubao(capsys, "policy", "check", "2027")[0] == 0  # estimates are a warning
    reviewed(folder / "2027.yaml")
    assert hubao(capsys, "policy", "publish", "2027", "--by", "王芳")[0] == 0
    code, out, _ = hubao(capsys, "quote", "--plans", "A0", "--start", "2027-07-10", "--json")
    assert code == 0
    assert json.loads(out)["total"] == 120


# --- show, diff --------------------------------------------------------------------------------


def test_show_prints_the_prices_and_the_account(capsys) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    code, out, _ = hubao(capsys, "policy", "show", "2024")
    assert code == 0
    assert "2024" in out.splitlines()[0]
    assert say("bot.policy.status.draft") in out.splitlines()[0]  # a draft is marked
    assert ACCOUNT in out
    assert "120" in out and "460" in out  # A0's and B3's full-year prices


def test_show_without_a_year_shows_the_year_in_force(capsys) -> None:
    code, out, _ = hubao(capsys, "policy", "show")  # HUBAO_TODAY=2023-07-10
    assert code == 0
    assert "2023" in out.splitlines()[0] and ACCOUNT in out


def test_diff_shows_only_what_changed(capsys, folder: Path) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    reviewed(folder / "2024.yaml", pricing__0__prices__B3="480", pricing__1__prices__B3="240")
    code, out, _ = hubao(capsys, "policy", "diff", "2023", "2024")
    assert code == 0
    changed = [line for line in out.splitlines() if "480" in line]
    assert len(changed) == 1 and "460" in changed[0]
    assert "120" not in out  # A0's price did not change


def test_diff_of_a_year_with_itself_says_no_differences(capsys) -> None:
    code, out, _ = hubao(capsys, "policy", "diff", "2023", "2023")
    assert code == 0
    assert out.strip() == say("bot.policy.no_differences", old=2023, new=2023)


def test_the_table_lines_up_chinese_and_latin_text() -> None:
    def columns(text: str) -> int:  # what a terminal shows: Chinese characters take two
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    lines = table([("价格", "120 元"), ("account", ACCOUNT)], ("项目", "内容")).splitlines()
    assert lines[1] == "-------  -----------------"
    # The second column starts at the same place on the screen in both rows.
    assert columns(lines[2][: lines[2].index("120")]) == 9
    assert columns(lines[3][: lines[3].index(ACCOUNT)]) == 9


# --- broken files ------------------------------------------------------------------------------


def test_a_yaml_mistake_is_said_with_its_line(capsys, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("year: 2024\ncoverage:\n  start: 2024-07-01\n end: x: y\n", encoding="utf-8")
    code, _, err = hubao(capsys, "policy", "check", str(path))
    assert code == 2
    assert str(path) in err and "第 4 行" in err


def test_a_wrong_half_price_is_explained(capsys, tmp_path: Path) -> None:
    data = packaged_2023()
    data["pricing"][1]["prices"]["A0"] = "65"
    path = tmp_path / "2023.yaml"
    write(path, data)
    code, out, err = hubao(capsys, "policy", "check", str(path))
    assert code == 2
    assert "1. " in out and "A0" in out
    assert "检查没有通过" in err


def test_an_operator_year_replaces_the_packaged_one(capsys, folder: Path) -> None:
    data = packaged_2023()
    data["contacts"]["hotline"] = "12345"
    data["pricing"][0]["prices"]["A0"] = "125"
    data["pricing"][1]["prices"]["A0"] = "62.5"
    write(folder / "2023.yaml", data)
    code, out, _ = hubao(capsys, "quote", "--plans", "A0", "--start", "2023-07-10", "--json")
    assert code == 0
    assert json.loads(out)["total"] == 125
    code, out, _ = hubao(capsys, "ask", "热线电话是多少")
    assert code == 0
    assert "12345" in out and "12351" not in out


def test_a_broken_operator_file_stops_a_quote_naming_it(capsys, folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "2024.yaml").write_text("year: 2024\ncoverage: [2024-07-01\n", encoding="utf-8")
    code, out, err = hubao(capsys, "quote", "--plans", "A0", "--start", "2023-07-10")
    assert code == 2
    assert out == ""  # no figure given
    assert str(folder / "2024.yaml") in err and "格式有误" in err


def test_a_published_file_edited_wrongly_stops_a_quote(capsys, folder: Path) -> None:
    data = packaged_2023()
    data["pricing"][1]["prices"]["A0"] = "65"  # half of 120 is 60
    write(folder / "2023.yaml", data)
    code, out, err = hubao(capsys, "quote", "--plans", "A0", "--start", "2023-07-10")
    assert code == 2
    assert out == ""
    assert str(folder / "2023.yaml") in err


def test_a_year_under_another_name_is_refused(capsys, folder: Path) -> None:
    hubao(capsys, "policy", "new", "2024", "--from", "2023")
    (folder / "2024.yaml").rename(folder / "2025.yaml")
    code, _, err = hubao(capsys, "policy", "list")
    assert code == 2
    assert "2024.yaml" in err and str(folder / "2025.yaml") in err
    assert hubao(capsys, "quote", "--plans", "A0")[0] == 2
