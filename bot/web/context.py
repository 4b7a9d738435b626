"""What the web handlers share: the app (engine, storage, knowledge base), the settings,
the page templates (their words come from the text catalog) and the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
from aiohttp import web

from bot.bootstrap import App
from bot.web.security import Signer
from rules.catalog import say


def page_templates() -> jinja2.Environment:
    """Templates in ``bot/web/templates``, autoescaped; ``t("key", ...)`` is the catalog."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["t"] = say
    return env


@dataclass
class WebContext:
    app: App
    signer: Signer
    upload_cap: int
    """HUBAO_MAX_UPLOAD_MB in bytes."""
    templates: jinja2.Environment = field(default_factory=page_templates)
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def page(self, template: str, status: int = 200, **values: Any) -> web.Response:
        html = self.templates.get_template(template).render(**values)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


CONTEXT = web.AppKey("hubao_web", WebContext)


def context_of(request: web.Request) -> WebContext:
    return request.app[CONTEXT]


def client_address(request: web.Request) -> str:
    """Who is asking, for the per-address limits (chat, console logins): behind our own TLS proxy
    (HUBAO_WEB_TRUST_PROXY=1) the last X-Forwarded-For address, the one the proxy saw;
    the earlier ones are whatever the client claimed."""
    if context_of(request).app.settings.web_trust_proxy:
        forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.remote or "unknown"
