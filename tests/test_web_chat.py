"""The chat page's JSON API, through aiohttp's test client: messages, buttons, uploads (with
the NDJSON progress stream), files sent only to their session, the history after a reload,
bad input, CSRF and session cookies, the upload cap and the rate limits."""

from __future__ import annotations

import io
import json

import openpyxl
from aiohttp import FormData
from aiohttp.test_utils import make_mocked_request

from bot.bootstrap import App, knowledge_base
from bot.web.chat import LIMITS
from bot.web.context import client_address
from bot.web.limits import Limits
from bot.web.server import make_web_app
from faq.answer import FaqService
from flows.storage import MemoryStorage

from helpers import roster_upload
from web_app import csrf, web_client, web_settings

BEFORE_ROSTER = ["我要参保", "没有", "今天", "有", "有", "填过了", "上海网页测试有限公司"]


async def started(client):
    """The browser opens the page: session and CSRF cookies set."""
    answer = await client.get("/")
    assert answer.status == 200
    return answer


async def say_text(client, text, **extra):
    answer = await client.post("/api/messages", json={"text": text, **extra}, headers=csrf(client))
    assert answer.status == 200, await answer.text()
    return await answer.json()


def texts(body):
    return "\n".join(reply["text"] for reply in body["replies"])


def choices(body):
    return [c for reply in body["replies"] for c in reply["choices"]]


def files(body):
    return [f for reply in body["replies"] for f in reply["files"]]


def roster_form(name, data):
    form = FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


async def to_roster_step(client):
    for words in BEFORE_ROSTER:
        await say_text(client, words)


async def test_a_question_typed_gets_hubaos_reply(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        body = await say_text(client, "8个人参加A0B0C0，2024年2月起保多少钱")
        assert "合计：760元" in texts(body)
        assert "每人95元" in texts(body)


async def test_the_page_is_chinese_with_the_elements_the_script_needs(tmp_path):
    async with web_client(tmp_path) as client:
        page = await (await started(client)).text()
        assert '<html lang="zh-CN">' in page
        for element in ('id="log"', 'id="text"', 'id="send"', 'id="file"', 'id="choices"'):
            assert element in page
        assert 'aria-live="polite"' in page
        assert 'accept=".xlsx,.xls,.csv"' in page
        assert '<label for="text"' in page and "发送" in page
        assert "<script>" not in page and "style=" not in page  # the CSP forbids inline ones
        script = await client.get("/static/chat.js")
        assert script.status == 200 and "innerHTML" not in await script.text()


async def test_a_quote_asked_step_by_step_with_a_button_for_the_date(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        assert "哪些保障项目" in texts(await say_text(client, "/quote"))
        assert "几位员工" in texts(await say_text(client, "A0 B0 C0"))
        asked = await say_text(client, "3个人")
        assert "从哪天起保" in texts(asked)
        date = choices(asked)[0]
        answer = await client.post(
            "/api/messages", json={"button": date["value"]}, headers=csrf(client)
        )
        assert answer.status == 200
        assert "合计：" in texts(await answer.json())
        # After a reload the pressed button reads as the label the user saw.
        history = await (await client.get("/api/history")).json()
        pressed = [m["text"] for m in history["messages"] if m["role"] == "user"][-1]
        assert pressed == f"[按钮] {date['label']}"


async def test_a_retried_post_with_the_same_id_is_answered_once(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        first = await say_text(client, "/quote", id="m-1")
        again = await say_text(client, "/quote", id="m-1")
        assert "哪些保障项目" in texts(first)
        assert again == {"replies": []}
        history = await (await client.get("/api/history")).json()
        assert [m["text"] for m in history["messages"] if m["role"] == "user"] == ["/quote"]


async def test_an_uploaded_roster_is_checked_and_the_files_are_linked(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await to_roster_step(client)
        name, data = roster_upload(
            {"people": 3, "rows": [{"name": "丁", "id": "31010119900101123"}]}
        )
        answer = await client.post(
            "/api/upload", data=roster_form(name, data), headers=csrf(client)
        )
        assert answer.status == 200
        body = await answer.json()
        assert "共4行，可以参保3人，有错误1行" in texts(body)
        [result] = files(body)
        assert result["name"] == "参保名单_检查结果.xlsx"
        download = await client.get(result["url"])
        assert download.status == 200
        assert download.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E5%8F%82%E4%BF%9D" in disposition  # 参保...
        workbook = openpyxl.load_workbook(io.BytesIO(await download.read()))
        assert workbook.active.max_row > 1


async def test_the_ndjson_stream_shows_progress_then_the_replies(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await to_roster_step(client)
        name, data = roster_upload({"people": 1200})
        answer = await client.post(
            "/api/upload",
            data=roster_form(name, data),
            headers={**csrf(client), "Accept": "application/x-ndjson"},
        )
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in (await answer.text()).splitlines() if line]
        progress, final = lines[:-1], lines[-1]
        assert progress and all(line["progress"].startswith("正在检查名单") for line in progress)
        assert "共1200行，可以参保1200人" in texts(final)


async def test_a_file_is_served_to_its_own_session_only(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await to_roster_step(client)
        template = await client.post(
            "/api/messages", json={"button": "v:模板"}, headers=csrf(client)
        )
        [link] = files(await template.json())
        assert link["name"] == "参保名单导入模板.xlsx"
        assert (await client.get(link["url"])).status == 200
        assert (await client.get("/api/files/made-up-id")).status == 404
        # Another browser on the same server cannot fetch it, even knowing the link.
        other = client.__class__(client.server)
        try:
            await other.get("/")
            refused = await other.get(link["url"])
            assert refused.status == 404
            assert (await refused.json())["error"] == "找不到这个地址。"
        finally:
            await other.close()


async def test_the_history_after_a_reload_is_masked_and_lists_files_and_choices(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await say_text(client, "我的身份证号是310101199001010252，能参保吗")
        await to_roster_step(client)
        await client.post("/api/messages", json={"button": "v:模板"}, headers=csrf(client))
        history = await (await client.get("/api/history")).json()
        said = [m["text"] for m in history["messages"]]
        assert "310101199001010252" not in json.dumps(history, ensure_ascii=False)
        assert said[0] == "我的身份证号是3101**********0252，能参保吗"
        assert history["messages"][0]["role"] == "user"
        assert {m["role"] for m in history["messages"]} == {"user", "bot"}
        assert [f["name"] for f in history["files"]] == ["参保名单导入模板.xlsx"]
        assert history["files"][0]["url"].startswith("/api/files/")
        assert history["choices"]  # the buttons the roster step offers, shown again


async def test_a_new_browser_has_an_empty_history(tmp_path):
    async with web_client(tmp_path) as client:
        answer = await client.get("/api/history")
        assert await answer.json() == {"messages": [], "choices": [], "files": []}
        assert answer.cookies["hubao_session"]["httponly"]
        assert answer.cookies["hubao_session"]["samesite"] == "Strict"


async def test_bad_requests_are_refused_with_what_to_send(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        headers = {**csrf(client), "Content-Type": "application/json"}
        for body, said in [
            (b"{not json", '{"text": "您的消息"}'),
            (b'["hello"]', "JSON 对象"),
            (b"{}", "text"),
            (b'{"text": 5}', "字符串"),
            (b'{"text": "a", "button": "b"}', "其中一项"),
            (b'{"text": "   "}', "空"),
        ]:
            answer = await client.post("/api/messages", data=body, headers=headers)
            assert answer.status == 400, body
            assert said in (await answer.json())["error"], body
        huge = json.dumps({"text": "字" * 70_000})
        answer = await client.post("/api/messages", data=huge, headers=headers)
        assert answer.status == 413
        assert "KB" in (await answer.json())["error"]


async def test_a_long_text_gets_the_engines_own_answer(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        body = await say_text(client, "保" * 2500)
        assert "2000" in texts(body)


async def test_a_post_without_csrf_or_session_is_refused(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        assert (await client.post("/api/messages", json={"text": "你好"})).status == 403
        client.session.cookie_jar.clear(lambda c: c.key == "hubao_session")
        refused = await client.post("/api/messages", json={"text": "你好"}, headers=csrf(client))
        assert refused.status == 403
        assert "刷新页面" in (await refused.json())["error"]
        upload = await client.post(
            "/api/upload", data=roster_form("a.xlsx", b"x"), headers=csrf(client)
        )
        assert upload.status == 403


async def test_a_tampered_session_cookie_starts_a_new_session(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await say_text(client, "/quote")
        signed = next(c.value for c in client.session.cookie_jar if c.key == "hubao_session")
        value, mac = signed.rsplit(".", 1)
        client.session.cookie_jar.clear(lambda c: c.key == "hubao_session")
        client.session.cookie_jar.update_cookies({"hubao_session": f"{value}x.{mac}"})
        refused = await client.post("/api/messages", json={"text": "你好"}, headers=csrf(client))
        assert refused.status == 403
        history = await client.get("/api/history")
        assert (await history.json())["messages"] == []
        assert history.cookies["hubao_session"].value != f"{value}x.{mac}"


async def test_an_upload_over_the_cap_is_refused_with_the_cap(tmp_path):
    async with web_client(tmp_path, upload_cap=1024 * 1024) as client:
        await started(client)
        await to_roster_step(client)
        answer = await client.post(
            "/api/upload",
            data=roster_form("big.xlsx", b"x" * (1024 * 1024 + 10)),
            headers=csrf(client),
        )
        assert answer.status == 413
        assert "1 MB" in (await answer.json())["error"]
        missing = await client.post("/api/upload", data={"other": "x"}, headers=csrf(client))
        assert missing.status == 400
        assert "上传名单" in (await missing.json())["error"]


async def test_too_many_messages_are_refused_until_the_minute_passed(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        now = [1000.0]
        client.server.app[LIMITS].clock = lambda: now[0]
        for i in range(30):
            await say_text(client, f"{i + 1}个人")
        refused = await client.post("/api/messages", json={"text": "再算"}, headers=csrf(client))
        assert refused.status == 429
        assert refused.headers["Retry-After"] == "60"
        assert "60 秒后再试" in (await refused.json())["error"]
        now[0] += 61
        assert (await client.post("/api/messages", json={"text": "再算"}, headers=csrf(client))).ok


async def test_uploads_have_a_stricter_limit(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        for _ in range(10):
            answer = await client.post(
                "/api/upload", data=roster_form("a.csv", b"x"), headers=csrf(client)
            )
            assert answer.status == 200
        refused = await client.post(
            "/api/upload", data=roster_form("a.csv", b"x"), headers=csrf(client)
        )
        assert refused.status == 429
        assert "秒后再上传" in (await refused.json())["error"]


def test_the_address_limit_counts_every_session_of_one_address():
    now = [0.0]
    limits = Limits(
        clock=lambda: now[0], messages_per_session=(5, 60), messages_per_address=(8, 60)
    )
    assert all(limits.admit("message", "a", "10.0.0.1") == 0 for _ in range(5))
    assert limits.admit("message", "a", "10.0.0.1") > 0
    assert all(limits.admit("message", "b", "10.0.0.1") == 0 for _ in range(3))
    assert limits.admit("message", "c", "10.0.0.1") == 60
    assert limits.admit("message", "d", "10.0.0.2") == 0
    now[0] = 61
    assert limits.admit("message", "c", "10.0.0.1") == 0


def test_the_client_address_is_the_proxys_view_only_when_trusted(tmp_path):
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}
    seen = {}
    for trusted in (False, True):
        settings = web_settings(tmp_path, web_trust_proxy=trusted)
        app = App(settings, FaqService(knowledge_base()), MemoryStorage())
        web_app = make_web_app(app, 1024 * 1024)
        request = make_mocked_request("POST", "/api/messages", headers=headers, app=web_app)
        seen[trusted] = client_address(request)
    assert seen[False] not in {"6.6.6.6", "203.0.113.9"}  # not behind our proxy: ignored
    assert seen[True] == "203.0.113.9"  # the address our proxy saw, not the one claimed


async def test_text_that_looks_like_html_stays_plain_text(tmp_path):
    async with web_client(tmp_path) as client:
        await started(client)
        await say_text(client, "<script>alert(1)</script>")
        history = await (await client.get("/api/history")).json()
        assert history["messages"][0]["text"] == "<script>alert(1)</script>"
        page = await (await client.get("/")).text()
        assert "alert(1)" not in page  # the page shows it only through the script's textContent
