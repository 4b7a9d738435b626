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

Format = Literal["md", "html", "xlsx"]
FORMATS: tuple[Format, ...] = ("md", "html", "xlsx")

TOPIC_NAMES = {
    "login": "登录与账号",
    "code": "参保编码",
    "operator": "经办人与信息变更",
    "roster": "参保名单（清册）",
    "validation": "清册校验与附件",
    "plans": "保障项目与保费",
    "dates": "参保时间、保障期限与免责期",
    "payment": "缴费、退款与专用收据",
    "batch": "批次状态",
    "instant": "即时参保",
}

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
    order = list(TOPIC_NAMES)
    return sorted(topics.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def export(kb: KnowledgeBase, fmt: Format, with_phrasings: bool = False) -> bytes:
    """The knowledge base in ``fmt``; alternates, sources and ids only ``with_phrasings``."""
    topics = _by_topic(kb)
    if fmt == "xlsx":
        return _xlsx(kb, topics, with_phrasings)
    context: dict[str, Any] = {
        "year": kb.context["year"],
        "count": sum(len(es) for _, es in topics),
        "topics": topics,
        "topic_names": TOPIC_NAMES,
        "answers": kb.rendered,
        "questions": {e.id: e.question for e in kb.entries},
        "with_phrasings": with_phrasings,
    }
    return _ENV.get_template(f"export.{fmt}.j2").render(**context).encode("utf-8")


def _xlsx(kb: KnowledgeBase, topics: list[tuple[str, list[Entry]]], with_phrasings: bool) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "知识库"
    header = ["分类", "问题", "答案", "相关问题"]
    widths = [16, 30, 60, 30]
    if with_phrasings:
        header += ["其他问法", "手册出处", "编号"]
        widths += [30, 24, 24]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    questions = {e.id: e.question for e in kb.entries}
    for topic, entries in topics:
        for e in entries:
            related = "\n".join(questions[r] for r in e.related if r in questions)
            row = [TOPIC_NAMES.get(topic, topic), e.question, kb.rendered[e.id], related]
            if with_phrasings:
                row += ["\n".join(e.alternates), e.source, e.id]
            ws.append(row)
    for col, width in zip("ABCDEFG", widths, strict=False):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
