"""What every web request goes through: health check, CSRF double submit, security
headers, signed cookies, errors in Chinese."""

from bot.web.security import CSP, Signer

from web_app import csrf, web_client


async def test_health_check_answers_ok(tmp_path):
    async with web_client(tmp_path) as client:
        answer = await client.get("/healthz")
        assert answer.status == 200
        assert await answer.text() == "ok"


async def test_every_answer_forbids_inline_script_and_framing(tmp_path):
    async with web_client(tmp_path) as client:
        answer = await client.get("/healthz")
        policy = answer.headers["Content-Security-Policy"]
        assert policy == CSP
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_post_without_the_csrf_header_is_refused(tmp_path):
    async with web_client(tmp_path) as client:
        await client.get("/healthz")  # the browser now holds the CSRF cookie
        refused = await client.post("/api/messages", json={"text": "你好"})
        assert refused.status == 403
        assert "刷新页面" in (await refused.json())["error"]
        wrong = await client.post(
            "/api/messages", json={"text": "你好"}, headers={"X-Hubao-CSRF": "guessed"}
        )
        assert wrong.status == 403


async def test_the_csrf_cookie_is_strict_and_readable_by_the_page(tmp_path):
    async with web_client(tmp_path) as client:
        answer = await client.get("/healthz")
        cookie = answer.cookies["hubao_csrf"]
        assert cookie["samesite"] == "Strict"
        assert not cookie["httponly"]  # the page's script copies it into the header
        assert len(csrf(client)["X-Hubao-CSRF"]) >= 16


async def test_an_unknown_address_is_answered_in_chinese(tmp_path):
    async with web_client(tmp_path) as client:
        answer = await client.get("/api/no-such-thing")
        assert answer.status == 404
        assert (await answer.json())["error"] == "找不到这个地址。"


def test_a_signed_value_cannot_be_altered_or_signed_with_another_key():
    signer = Signer(b"k" * 32)
    signed = signer.sign("session-1")
    assert signer.unsign(signed) == "session-1"
    value, mac = signed.rsplit(".", 1)
    assert signer.unsign(f"session-2.{mac}") is None
    assert signer.unsign(value) is None
    assert Signer(b"other key 0123456789").unsign(signed) is None
