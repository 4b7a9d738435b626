"""The hotline team's console, ``/console``: search the knowledge base as a caller asks
(answers with their scores, related questions, a copy button), the questions nobody could
answer with the closest entries, the knowledge base's export, and the figures of today and
the last 7 days. Every page but the login needs a live session (``console_auth``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.web import console_auth as auth
from bot.web import figures
from bot.web.context import WebContext, context_of
from bot.web.security import csrf_token
from bot.web.staff import dummy_hash
from faq.export import Format, export
from faq.match import MAX_QUESTION_CHARS
from faq.misses import group_misses, newest_first
from flows.keys import SHANGHAI
from rules.policy import policy_in_force
from rules.privacy import mask_personal_data

RESULTS = 5
CLOSEST = 3
MISS_DAYS = 30
MISS_GROUPS = 200
"""At most this many groups listed: the page stays quick however many misses a month saw."""
CONTENT_TYPES: dict[Format, str] = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def setup(web_app: web.Application, ctx: WebContext) -> None:
    """Register the console's routes."""
    dummy_hash()  # made now, so the first unknown name takes no longer than the next
    router = web_app.router
    router.add_get(auth.LOGIN, auth.login_page)
    router.add_post(auth.LOGIN, auth.login)
    router.add_post("/console/logout", auth.logout)
    router.add_get(auth.HOME, auth.signed_in(home))
    router.add_get("/console/", auth.signed_in(home))
    router.add_get("/console/misses", auth.signed_in(misses))
    for fmt in CONTENT_TYPES:
        router.add_get(f"/console/export.{fmt}", auth.signed_in(_download(fmt)))


def today(ctx: WebContext) -> dt.date:
    """The Shanghai day of the real clock: figures count real days, whatever HUBAO_TODAY
    says about the flows' dates."""
    return ctx.now().astimezone(SHANGHAI).date()


def _page(request: web.Request, template: str, section: str, **values: Any) -> web.Response:
    return context_of(request).page(
        template,
        user=auth.user_of(request),
        csrf=csrf_token(request),
        section=section,
        **values,
    )


@dataclass(frozen=True)
class Result:
    id: str
    question: str
    answer: str
    score: int
    """0-100."""
    related: tuple[str, ...]


def search(ctx: WebContext, query: str) -> list[Result]:
    """The best entries for a caller's question, as the hotline reads them out."""
    faq = ctx.app.faq
    policy = policy_in_force(ctx.app.settings.clock())  # the year callers enroll into today
    found = []
    for entry, score in faq.matcher.rank(query, limit=RESULTS):
        answer = faq.answer_entry(entry.id, policy=policy)
        related = tuple(faq.kb.by_id[r].question for r in entry.related if r in faq.kb.by_id)
        # The answer alone: its related questions are listed beside it, not copied with it.
        found.append(
            Result(entry.id, entry.question, answer.body or answer.text, _percent(score), related)
        )
    return found


def _percent(score: float) -> int:
    return max(0, min(100, round(score * 100)))


async def home(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    query = request.query.get("q", "").strip()[:MAX_QUESTION_CHARS]
    last = today(ctx)
    week = await ctx.app.storage.figures(last - dt.timedelta(days=6), last)
    return _page(
        request,
        "console_home.html.j2",
        "home",
        q=query,
        results=search(ctx, query) if query else [],
        measures=figures.MEASURES,
        stacked=figures.STACKED,
        today=figures.of_day(week[-1]),
        week=figures.total(week),
        chart=figures.chart(week),
        first=week[0].day,
        last=last,
    )


@dataclass(frozen=True)
class Closest:
    question: str
    score: int


@dataclass(frozen=True)
class MissRow:
    question: str
    count: int
    variants: tuple[str, ...]
    latest: str
    """Shanghai time, YYYY-MM-DD HH:MM."""
    closest: tuple[Closest, ...]


async def misses(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    since = today(ctx) - dt.timedelta(days=MISS_DAYS)
    groups = newest_first(group_misses(await ctx.app.storage.misses(since)))[:MISS_GROUPS]
    matcher = ctx.app.faq.matcher
    rows = [
        MissRow(
            # Stored masked already; masked again so no old row ever shows a full number.
            question=mask_personal_data(g.question),
            count=g.count,
            variants=tuple(mask_personal_data(v) for v in g.variants if v != g.question),
            latest=g.latest.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            closest=tuple(
                Closest(e.question, _percent(s))
                for e, s in matcher.rank(g.question[:MAX_QUESTION_CHARS], limit=CLOSEST)
            ),
        )
        for g in groups
    ]
    return _page(request, "console_misses.html.j2", "misses", rows=rows, days=MISS_DAYS)


def _download(fmt: Format) -> auth.Page:
    async def download(request: web.Request) -> web.StreamResponse:
        body = export(context_of(request).app.faq.kb, fmt)
        return web.Response(
            body=body,
            headers={
                "Content-Type": CONTENT_TYPES[fmt],
                "Content-Disposition": f'attachment; filename="hubao-faq.{fmt}"',
            },
        )

    return download
