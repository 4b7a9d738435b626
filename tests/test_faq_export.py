"""`hubao faq export` in every format it supports: run through the command line, the output
parsed back, every question and answer there, no notes of ours, phrasings only on request."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from faq.export import FORMATS, export
from faq.kb import Entry, load_kb
from faq.lint import internal_notes


@dataclass
class Exported:
    """What a reader of an export sees, format aside."""

    qa: dict[str, str]
    """Question -> answer, as shown."""
    phrasings: list[str] = field(default_factory=list)
    """The alternates shown, if any."""
    text: str = ""
    """All the visible text."""


class _HtmlReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.questions: list[str] = []
        self.answers: list[str] = []
        self.alternates: list[str] = []
        self.text: list[str] = []
        self._into: list[str] | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class")
        if tag == "h3":
            self._into = self.questions
        elif tag == "div" and cls == "answer":
            self._into = self.answers
        elif tag == "p" and cls == "alt":
            self._into = self.alternates
        else:
            return
        self._buffer = []

    def handle_endtag(self, tag: str) -> None:
        if self._into is not None and tag in {"h3", "div", "p"}:
            self._into.append("".join(self._buffer))
            self._into = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._into is not None:
            self._buffer.append(data)


def _read_html(data: bytes) -> Exported:
    reader = _HtmlReader()
    reader.feed(data.decode("utf-8"))
    assert len(reader.questions) == len(reader.answers)
    phrasings = [p for line in reader.alternates for p in line.split("：", 1)[1].split("；")]
    return Exported(dict(zip(reader.questions, reader.answers, strict=True)), phrasings,
                    "".join(reader.text))  # fmt: skip


def _unmarkdown(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text.replace("  \n", "\n")).strip()


def _read_md(data: bytes) -> Exported:
    text = data.decode("utf-8")
    qa: dict[str, str] = {}
    phrasings: list[str] = []
    for block in re.split(r"^### ", text, flags=re.M)[1:]:
        question, _, rest = block.partition("\n")
        body = re.split(r"^(?:- 相关问题：|- 其他问法：|<a id=)", rest, maxsplit=1, flags=re.M)[0]
        qa[_unmarkdown(question)] = _unmarkdown(body)
        if found := re.search(r"^- 其他问法：(.*)$", rest, flags=re.M):
            phrasings += _unmarkdown(found.group(1)).split("；")
    visible = re.sub(r'<a id="[^"]*"></a>|(?<=\])\(#[^)]*\)', "", text)  # anchors, link targets
    return Exported(qa, phrasings, _unmarkdown(visible))


def _read_xlsx(data: bytes, path: Path) -> Exported:
    path.write_bytes(data)
    rows = list(load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    header = [str(c) for c in rows[0]]
    q, a = header.index("问题"), header.index("答案")
    alt = header.index("其他问法") if "其他问法" in header else None
    qa = {str(r[q]): str(r[a]) for r in rows[1:]}
    phrasings = [p for r in rows[1:] if alt is not None for p in str(r[alt]).splitlines()]
    text = "\n".join(str(c) for r in rows for c in r if c is not None)
    return Exported(qa, phrasings, text)


def _export(fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> bytes:
    out = tmp_path / f"知识库.{fmt}"
    assert main(["faq", "export", "--format", fmt, "-o", str(out), *extra]) == 0
    assert str(out) in capsys.readouterr().out
    return out.read_bytes()


def _read(fmt: str, data: bytes, tmp_path: Path) -> Exported:
    if fmt == "html":
        return _read_html(data)
    if fmt == "md":
        return _read_md(data)
    return _read_xlsx(data, tmp_path / "read.xlsx")


def _business() -> list[Entry]:
    return list(load_kb().business)


def _alternates_of_their_own(entries: list[Entry]) -> list[str]:
    """Alternates that are not also part of some question or answer."""
    kb = load_kb()
    shown = "\n".join([*(e.question for e in entries), *kb.rendered.values()])
    return [a for e in entries for a in e.alternates if a not in shown]


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_export_has_every_question_and_answer_and_nothing_of_ours(fmt, tmp_path, capsys):
    exported = _read(fmt, _export(fmt, tmp_path, capsys), tmp_path)
    kb = load_kb()
    entries = _business()
    assert exported.qa == {e.question: kb.rendered[e.id] for e in entries}
    assert internal_notes(exported.text) == []
    assert exported.phrasings == []
    assert "其他问法" not in exported.text
    own = _alternates_of_their_own(entries)
    assert "登陆键点了没反应是怎么回事" in own
    assert not [a for a in own if a in exported.text]
    assert not [e.id for e in entries if e.id in exported.text]  # ids are ours too


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_with_phrasings_adds_every_alternate(fmt, tmp_path, capsys):
    exported = _read(fmt, _export(fmt, tmp_path, capsys, "--with-phrasings"), tmp_path)
    kb = load_kb()
    entries = _business()
    assert exported.qa == {e.question: kb.rendered[e.id] for e in entries}
    assert sorted(exported.phrasings) == sorted(a for e in entries for a in e.alternates)
    assert internal_notes(exported.text) == []


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_text_formats_print_to_standard_output(fmt, tmp_path, capsys):
    assert main(["faq", "export", "--format", fmt]) == 0
    exported = _read(fmt, capsys.readouterr().out.encode("utf-8"), tmp_path)
    assert len(exported.qa) == len(_business())


def test_excel_without_an_output_file_is_refused_with_a_message(capsys):
    assert main(["faq", "export", "--format", "xlsx"]) == 2
    assert "-o" in capsys.readouterr().err


def test_markdown_table_of_contents_links_to_each_topic(tmp_path, capsys):
    text = _export("md", tmp_path, capsys).decode("utf-8")
    targets = re.findall(r"\]\(#([\w-]+)\)", text)
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', text))
    assert targets and set(targets) <= anchors


def test_html_export_has_a_table_of_contents_and_the_alternates_only_on_request():
    html = export(load_kb(), "html").decode("utf-8")
    assert "目录" in html and 'href="#' in html and "其他问法" not in html
    assert "其他问法" in export(load_kb(), "html", with_phrasings=True).decode("utf-8")


def test_topics_are_listed_by_their_names_in_the_handbooks_order(tmp_path, capsys):
    text = _export("md", tmp_path, capsys).decode("utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[:3] == ["登录与账号", "参保编码", "经办人与信息变更"]
    assert "参保名单（清册）" in headings and "login" not in headings
    rows = list(
        load_workbook(io.BytesIO(export(load_kb(), "xlsx"))).active.iter_rows(values_only=True)
    )
    assert list(rows[0]) == ["分类", "问题", "答案", "相关问题"]
    assert rows[1][0] == "登录与账号"
