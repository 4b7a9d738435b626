"""The hotline team's console, through aiohttp's test client on memory storage: login,
throttling, sessions, search, misses, exports and figures."""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from bot.web.console_auth import COOKIE, token_hash
from bot.web.context import CONTEXT
from bot.web.staff import hash_password
from flows.messages import Incoming
from flows.storage import SHANGHAI, ConversationKey

from web_app import csrf, web_client

PASSWORD = "correct horse battery"
T0 = dt.datetime(2023, 7, 10, 2, 0, tzinfo=dt.UTC)


# --- a small HTML reader: elements by tag, class or id, with their text -----------------

_VOID = {"input", "meta", "link", "br", "img", "hr", "line", "rect"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.parts: list[str | Node] = []

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts).strip()

    def matches(self, selector: str) -> bool:
        tag, _, cls = selector.partition(".")
        if tag.startswith("#"):
            return self.attrs.get("id") == tag[1:]
        return (not tag or self.tag == tag) and (
            not cls or cls in self.attrs.get("class", "").split()
        )

    def all(self, selector: str) -> list[Node]:
        found = []
        for child in self.children:
            if child.matches(selector):
                found.append(child)
            found.extend(child.all(selector))
        return found

    def one(self, selector: str) -> Node:
        found = self.all(selector)
        assert len(found) == 1, f"{selector}: {len(found)} found"
        return found[0]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = self.at = Node("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.at)
        self.at.children.append(node)
        self.at.parts.append(node)
        if tag not in _VOID:
            self.at = node

    def handle_endtag(self, tag):
        node = self.at
        while node.parent is not None and node.tag != tag:
            node = node.parent
        if node.parent is not None:
            self.at = node.parent

    def handle_data(self, data):
        self.at.parts.append(data)


def parse(html: str) -> Node:
    reader = _Reader()
    reader.feed(html)
    return reader.root


# --- helpers --------------------------------------------------------------------------


def context(client):
    return client.server.app[CONTEXT]


async def add_account(client, name="alice", password=PASSWORD):
    storage = context(client).app.storage
    await storage.staff.set_password(name, hash_password(password), T0)


async def log_in(client, name="alice", password=PASSWORD, headers=None):
    """Post the login form as a browser would (its hidden CSRF field included)."""
    await client.get("/console/login", allow_redirects=False)
    token = csrf(client)["X-Hubao-CSRF"]
    return await client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf": token},
        allow_redirects=False,
        headers=headers,
    )


async def page_of(client, path):
    answer = await client.get(path, allow_redirects=False)
    assert answer.status == 200, path
    return parse(await answer.text())


def session_cookie(client):
    return next((c for c in client.session.cookie_jar if c.key == COOKIE), None)


# --- login, throttling, sessions ---------------------------------------------------


async def test_the_right_password_opens_a_session(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        answer = await log_in(client)
        assert answer.status == 303 and answer.headers["Location"] == "/console"
        cookie = answer.cookies[COOKIE]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        # Only the token's hash is stored: the database alone opens no session.
        stored = context(client).app.storage.staff.sessions
        assert cookie.value not in stored and token_hash(cookie.value) in stored
        home = await page_of(client, "/console")
        assert "alice" in home.one("header").text
        assert home.one("#logout")


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        wrong = await log_in(client, password="not the password")
        unknown = await log_in(client, name="mallory")
        assert wrong.status == unknown.status == 401
        said = [parse(await a.text()).one("#login-error").text for a in (wrong, unknown)]
        assert said[0] == said[1] and "账号或密码不对" in said[0]
        assert session_cookie(client) is None
        again = await client.get("/console", allow_redirects=False)
        assert again.headers["Location"] == "/console/login"


async def test_after_five_failures_even_the_right_password_waits_for_the_window(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        context(client).now = lambda: T0
        for _ in range(5):
            assert (await log_in(client, password="guess guess")).status == 401
        refused = await log_in(client)
        assert refused.status == 429
        assert "15 分钟后再试" in parse(await refused.text()).one("#login-error").text
        assert session_cookie(client) is None

        context(client).now = lambda: T0 + dt.timedelta(minutes=14)
        assert (await log_in(client)).status == 429
        context(client).now = lambda: T0 + dt.timedelta(minutes=16)
        assert (await log_in(client)).status == 303


async def test_many_failures_from_one_address_stop_every_name_there(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        context(client).now = lambda: T0
        for n in range(20):
            assert (await log_in(client, name=f"guess{n}", password="guess guess")).status == 401
        assert (await log_in(client)).status == 429


async def test_behind_a_trusted_proxy_each_callers_address_is_counted_apart(tmp_path):
    # Every request comes from the proxy's address; the proxy names the caller.
    async with web_client(tmp_path, web_trust_proxy=True) as client:
        await add_account(client)
        context(client).now = lambda: T0
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        for n in range(20):
            await log_in(client, name=f"guess{n}", password="guess guess", headers=guesser)
        assert (await log_in(client, headers=guesser)).status == 429
        colleague = {"X-Forwarded-For": "198.51.100.7"}
        assert (await log_in(client, headers=colleague)).status == 303


async def test_a_success_forgets_the_account_name_failures(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        context(client).now = lambda: T0
        for _ in range(4):
            await log_in(client, password="guess guess")
        assert (await log_in(client)).status == 303
        for _ in range(4):
            await log_in(client, password="guess guess")
        assert (await log_in(client)).status == 303


async def test_a_session_expires_after_eight_hours(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        context(client).now = lambda: T0
        await log_in(client)
        context(client).now = lambda: T0 + dt.timedelta(hours=7, minutes=59)
        assert (await client.get("/console", allow_redirects=False)).status == 200
        context(client).now = lambda: T0 + dt.timedelta(hours=8, seconds=1)
        expired = await client.get("/console", allow_redirects=False)
        assert expired.status == 303 and expired.headers["Location"] == "/console/login"


async def test_logout_closes_the_session_on_the_server(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        token = session_cookie(client).value
        out = await client.post("/console/logout", headers=csrf(client), allow_redirects=False)
        assert out.status == 303 and out.headers["Location"] == "/console/login"
        assert session_cookie(client) is None
        # The old cookie, sent again, opens nothing.
        client.session.cookie_jar.update_cookies({COOKIE: token})
        assert (await client.get("/console", allow_redirects=False)).status == 303


async def test_logout_needs_the_csrf_token(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        assert (await client.post("/console/logout")).status == 403
        assert (await client.get("/console", allow_redirects=False)).status == 200


async def test_every_console_page_needs_a_session(tmp_path):
    async with web_client(tmp_path) as client:
        for path in ("/console", "/console/misses", "/console/export.xlsx", "/console?q=x"):
            answer = await client.get(path, allow_redirects=False)
            assert answer.status == 303 and answer.headers["Location"] == "/console/login"
            assert "清册" not in await answer.text()
        client.session.cookie_jar.update_cookies({COOKIE: "forged-token-0123456789abcdef"})
        assert (await client.get("/console", allow_redirects=False)).status == 303


async def test_the_login_page_is_in_chinese_with_labelled_fields(tmp_path):
    async with web_client(tmp_path) as client:
        page = await page_of(client, "/console/login")
        assert page.one("html").attrs["lang"] == "zh-CN"
        labels = {label.attrs["for"] for label in page.all("label")}
        assert {"login-name", "login-password"} <= labels
        assert page.one("#login-password").attrs["type"] == "password"
        assert page.one("#login-submit").text == "登录"
        hidden = page.one("#login-form").all("input")[0]
        assert (
            hidden.attrs["name"] == "csrf"
            and hidden.attrs["value"] == csrf(client)["X-Hubao-CSRF"]
        )


# --- search ------------------------------------------------------------------------


async def test_search_shows_the_best_answers_with_scores_and_related_questions(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        page = await page_of(client, "/console?q=清册附件怎么上传")
        results = page.all("li.result")
        assert 1 <= len(results) <= 5
        best = results[0]
        assert best.one(".question").text == "清册附件怎么上传？"
        assert "清册提交" in best.one(".answer").text
        scores = [int(r.one(".score").text.split()[-1].rstrip("%")) for r in results]
        assert all(0 <= s <= 100 for s in scores) and scores == sorted(scores, reverse=True)
        assert scores[0] > scores[-1]
        assert "清册校验需要上传哪些附件？" in best.one(".related").text
        button = best.one("button.copy")
        # The button copies the answer it stands by, and says so with the catalog's words.
        assert page.one(f"#{button.attrs['data-target']}") is best.one(".answer")
        assert button.attrs["data-copied"] == "已复制"
        assert page.one("#q").attrs["value"] == "清册附件怎么上传"


async def test_a_search_without_matches_says_so(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        page = await page_of(client, "/console?q=zzzz")
        assert page.all("li.result") == []
        assert "没有相近的答案" in page.one("#results-summary").text


# --- misses ------------------------------------------------------------------------


async def record_misses(client, asked):
    """Unanswered questions, each at its own time, as the engine records them."""
    storage = context(client).app.storage
    for n, (question, at) in enumerate(asked):
        key = ConversationKey("web", f"c{n}", f"u{n}")
        async with storage.turn(key, None) as turn:
            turn.miss(question, at)


async def test_misses_are_grouped_counted_newest_first_with_closest_entries(tmp_path):
    now = dt.datetime.now(dt.UTC)
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        await record_misses(
            client,
            [
                ("公积金怎么提取", now - dt.timedelta(days=3)),
                ("公积金怎么提取呢", now - dt.timedelta(days=2)),
                ("清册附件上传以后能撤回重传吗", now - dt.timedelta(hours=1)),
                ("很久以前的问题没人记得", now - dt.timedelta(days=40)),
            ],
        )
        page = await page_of(client, "/console/misses")
        misses = page.all("li.miss")
        # The newest first, though the other group was asked more often.
        assert [m.one(".question").text for m in misses] == [
            "清册附件上传以后能撤回重传吗",
            "公积金怎么提取",
        ]
        assert [m.one(".count").text for m in misses] == ["问过 1 次", "问过 2 次"]
        assert "公积金怎么提取呢" in misses[1].text  # the other wording is listed
        latest = (now - dt.timedelta(days=2)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        assert latest in misses[1].one(".when").text
        closest = misses[0].one(".closest").all("li")
        assert 1 <= len(closest) <= 3
        assert any("清册附件" in c.text for c in closest)
        assert "很久以前" not in page.one("main").text  # older than 30 days


async def test_a_miss_is_shown_escaped_and_masked(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        await record_misses(
            client,
            [("<script>alert(1)</script>身份证310101199001010252怎么办", dt.datetime.now(dt.UTC))],
        )
        answer = await client.get("/console/misses")
        html = await answer.text()
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
        assert "310101199001010252" not in html
        assert "<script>alert(1)</script>" in parse(html).one("li.miss").one(".question").text


async def test_no_misses_says_so(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        page = await page_of(client, "/console/misses")
        assert page.all("li.miss") == [] and "没有未答问题" in page.one("#no-misses").text


# --- exports -----------------------------------------------------------------------


async def test_the_knowledge_base_downloads_in_three_formats(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        expected = {
            "html": "text/html",
            "md": "text/markdown",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
        for fmt, content_type in expected.items():
            answer = await client.get(f"/console/export.{fmt}")
            assert answer.status == 200
            assert answer.content_type == content_type
            disposition = answer.headers["Content-Disposition"]
            assert disposition.startswith("attachment") and f".{fmt}" in disposition
            body = await answer.read()
            if fmt == "xlsx":
                sheet = load_workbook(io.BytesIO(body)).active
                cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
                assert "清册附件怎么上传？" in cells
            else:
                assert "清册附件怎么上传" in body.decode("utf-8")


# --- figures -----------------------------------------------------------------------


def figures_table(page):
    rows = page.one("#figures").one("tbody").all("tr")
    return {
        r.one("th").text: (int(r.one("td.today").text), int(r.one("td.week").text)) for r in rows
    }


async def test_figures_count_todays_conversations_and_outcomes(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        app = context(client).app
        one, two = ConversationKey("web", "a", "a"), ConversationKey("web", "b", "b")
        await app.engine.handle(Incoming(one, text="清册附件怎么上传"))
        await app.engine.handle(Incoming(one, text="明天上海会下雨吗"))
        await app.engine.handle(Incoming(two, text="清册附件怎么上传"))
        async with app.storage.turn(two, None) as turn:  # as the enrollment flow counts them
            turn.count("enroll_start")
            turn.count("enroll_done")
        table = figures_table(await page_of(client, "/console"))
        assert table["对话"] == (2, 2)
        assert table["已回答的问题"] == (2, 2)
        assert table["转热线的问题"] == (1, 1)
        assert table["请用户确认的问题"] == (0, 0)
        assert table["开始参保登记"] == (1, 1) and table["完成参保登记"] == (1, 1)
        figures = await page_of(client, "/console")
        days = figures.one("#figures").all("g.day")
        assert len(days) == 7
        today = dt.datetime.now(SHANGHAI).date()
        assert days[-1].attrs["data-day"] == today.isoformat()
        assert days[-1].one("text.total").text == "3"  # questions today
        assert {b.attrs["class"] for b in days[-1].all("rect")} == {
            "bar bar-answers",
            "bar bar-fallbacks",
        }
        assert all(d.one("text.total").text == "0" for d in days[:-1])


async def test_figures_are_zero_on_a_quiet_week(tmp_path):
    async with web_client(tmp_path) as client:
        await add_account(client)
        await log_in(client)
        table = figures_table(await page_of(client, "/console"))
        assert set(table.values()) == {(0, 0)} and len(table) == 6


def test_the_chart_scales_the_busiest_day_to_the_full_height():
    from bot.web import figures
    from flows.storage import DayFigures

    first = dt.date(2023, 7, 4)
    week = [DayFigures(first + dt.timedelta(days=n)) for n in range(7)]
    week[2] = DayFigures(week[2].day, answers=6, clarifications=2, fallbacks=2)
    week[5] = DayFigures(week[5].day, answers=5)
    chart = figures.chart(week)
    heights = [sum(s.height for s in c.segments) for c in chart.columns]
    assert heights[2] == max(heights) and heights[5] == pytest.approx(heights[2] / 2, abs=0.2)
    assert heights.count(0) == 5
    assert [c.total for c in chart.columns] == [0, 0, 10, 0, 0, 5, 0]
    # Bars stand on the baseline, side by side, inside the picture.
    for c in chart.columns:
        assert c.segments[0].y + c.segments[0].height == pytest.approx(chart.baseline, abs=0.2)
    xs = [c.x for c in chart.columns]
    assert xs == sorted(xs) and xs[-1] + chart.columns[-1].width <= chart.width
    assert figures.chart([DayFigures(first)]).columns[0].total == 0  # no division by zero
