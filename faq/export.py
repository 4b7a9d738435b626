"""A browsable copy of the knowledge base for the hotline team: HTML, Markdown or Excel."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any, Literal

import jinja2
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from faq.kb import Entry, KnowledgeBase

Format = Literal["md", "html", "xlsx"]

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


def _by_topic(kb: KnowledgeBase) -> list[tuple[str, list[Entry]]]:
    topics: defaultdict[str, list[Entry]] = defaultdict(list)
    for entry in kb.business:
        topics[entry.topic].append(entry)
    order = list(TOPIC_NAMES)
    return sorted(topics.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def export(kb: KnowledgeBase, fmt: Format) -> bytes:
    topics = _by_topic(kb)
    if fmt == "xlsx":
        return _xlsx(kb, topics)
    context: dict[str, Any] = {
        "year": kb.context["year"],
        "count": sum(len(es) for _, es in topics),
        "topics": topics,
        "topic_names": TOPIC_NAMES,
        "answers": kb.rendered,
        "questions": {e.id: e.question for e in kb.entries},
    }
    return _ENV.get_template(f"export.{fmt}.j2").render(**context).encode("utf-8")


def _xlsx(kb: KnowledgeBase, topics: list[tuple[str, list[Entry]]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "知识库"
    ws.append(["分类", "编号", "问题", "答案", "其他问法", "相关问题", "手册出处"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for topic, entries in topics:
        for e in entries:
            ws.append([
                TOPIC_NAMES.get(topic, topic), e.id, e.question, kb.rendered[e.id],
                "\n".join(e.alternates), "\n".join(e.related), e.source,
            ])  # fmt: skip
    for col, width in zip("ABCDEFG", (16, 24, 30, 60, 30, 24, 24), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
