"""A browsable copy of the knowledge base for the hotline team: HTML, Markdown or Excel.

The copy is public: each topic's questions and answers, and the related questions. The
ways handlers ask (alternates), the handbook section and the entry id are for the people
who keep the knowledge base, and only added on request (``with_phrasings``)."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from typing import Any, Literal

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from faq.kb import Entry, KnowledgeBase
from rules.catalog import render

Format = Literal["md", "html", "xlsx"]
FORMATS: tuple[Format, ...] = ("md", "html", "xlsx")

TOPICS = (
    "login", "code", "operator", "roster", "validation", "plans", "dates", "payment", "batch",
    "instant",
)  # fmt: skip
"""The topics (``faq/data/<topic>.yaml``) in the order an export lists them; their names
are the catalog's ``faq.topic.<topic>``."""
_COLUMNS = (("topic", 16), ("question", 30), ("answer", 60), ("related", 30))
_PHRASING_COLUMNS = (("alternates", 30), ("source", 24), ("id", 24))
"""Excel columns (catalog ``faq.export.column.<name>``) and their widths."""

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("faq", "templates"),
    autoescape=jinja2.select_autoescape(["html.j2"]),
    trim_blocks=True,
)
_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]#|])")


def _md(text: str) -> str:
    """Text as Markdown shows it: special characters escaped, each line its own line."""
    lines = [_MD_SPECIAL.sub(r"\\\1", line) for line in text.splitlines()]
    return "  \n".join(lines)


_ENV.filters["md"] = _md


def _by_topic(kb: KnowledgeBase) -> list[tuple[str, list[Entry]]]:
    topics: defaultdict[str, list[Entry]] = defaultdict(list)
    for entry in kb.business:
        topics[entry.topic].append(entry)
    return sorted(topics.items(), key=lambda kv: TOPICS.index(kv[0]) if kv[0] in TOPICS else 99)


def _topic_names(kb: KnowledgeBase) -> dict[str, str]:
    return {topic: render(f"faq.topic.{topic}", kb.context) for topic in TOPICS}


_WORDS = ("contents", "related", "alternates", "source", "separator")
"""The labels the exported page shows around entries, from the catalog's faq.export.word."""


def export(kb: KnowledgeBase, fmt: Format, with_phrasings: bool = False) -> bytes:
    """The knowledge base in ``fmt``; alternates, sources and ids only ``with_phrasings``."""
    topics = _by_topic(kb)
    if fmt == "xlsx":
        return _xlsx(kb, topics, with_phrasings)
    count = sum(len(es) for _, es in topics)
    context: dict[str, Any] = {
        "title": render("faq.export.title", kb.context, count=count),
        "title_short": render("faq.export.title_short", kb.context),
        "word": {
            **{w: render(f"faq.export.word.{w}", kb.context) for w in _WORDS},
            "id": render("faq.export.column.id", kb.context),
        },
        "entries_of": lambda n: render("faq.export.entries", kb.context, count=n),
        "topics": topics,
        "topic_names": _topic_names(kb),
        "answers": kb.rendered,
        "questions": {e.id: e.question for e in kb.entries},
        "with_phrasings": with_phrasings,
    }
    return _ENV.get_template(f"export.{fmt}.j2").render(**context).encode("utf-8")


def _xlsx(kb: KnowledgeBase, topics: list[tuple[str, list[Entry]]], with_phrasings: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = render("faq.export.sheet", kb.context)
    columns = _COLUMNS + (_PHRASING_COLUMNS if with_phrasings else ())
    ws.append([render(f"faq.export.column.{name}", kb.context) for name, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    questions = {e.id: e.question for e in kb.entries}
    names = _topic_names(kb)
    for topic, entries in topics:
        for e in entries:
            related = "\n".join(questions[r] for r in e.related if r in questions)
            row = [names.get(topic, topic), e.question, kb.rendered[e.id], related]
            if with_phrasings:
                row += ["\n".join(e.alternates), e.source, e.id]
            ws.append(row)
    for col, (_, width) in zip("ABCDEFG", columns, strict=False):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
