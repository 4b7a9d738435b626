"""The Telegram bot's settings: ``TelegramConfig``, checked from the ``HUBAO_*`` values that
``bot.settings.Settings`` reads, and the errors that stop the bot before (or while) it starts.
A setting that cannot be used is a ``SettingsError`` whose Chinese message says what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.settings import (
    DEFAULT_UPLOAD_CAP_MB,
    SettingsError,
    TelegramEnv,
    int_setting,
    upload_cap_mb,
)
from rules.catalog import say

TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots cannot download larger files through the public Bot API."""

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,100}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    api_base: str | None = None
    """HUBAO_TELEGRAM_API_BASE: e.g. a local Bot API server; None is api.telegram.org."""
    webhook_url: str | None = None
    """HUBAO_WEBHOOK_URL: webhook mode when set, long polling otherwise."""
    webhook_secret: str | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    admin_ids: frozenset[int] = frozenset()
    upload_cap: int = DEFAULT_UPLOAD_CAP_MB * 1024 * 1024
    concurrency: int = 16
    """Turns processed at once across chats (one at a time within a chat)."""
    request_timeout: float = 30.0
    poll_timeout: int = 30

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TelegramConfig:
        """The Telegram settings of the environment (``os.environ`` when ``env`` is None)."""
        return cls.from_settings(TelegramEnv.from_env(env))

    @classmethod
    def from_settings(cls, env: TelegramEnv) -> TelegramConfig:
        """Check the HUBAO_* Telegram values; a SettingsError says what to fix."""
        token = env.token.strip()
        check_token(token)
        api_base = env.api_base.strip().rstrip("/") or None
        if api_base is not None and not _is_http_url(api_base):
            raise SettingsError(say("bot.telegram.bad_api_base"))
        webhook_url = env.webhook_url.strip() or None
        secret = env.webhook_secret.strip() or None
        if webhook_url is not None:
            if not _is_http_url(webhook_url):
                raise SettingsError(say("bot.telegram.bad_webhook_url"))
            if secret is None:
                raise SettingsError(say("bot.telegram.no_secret"))
        if secret is not None and not _SECRET.match(secret):
            raise SettingsError(say("bot.telegram.bad_secret"))
        port = int_setting(env.webhook_port, "HUBAO_WEBHOOK_PORT", 8080, 0, 65535, "bad_port")
        cap_mb = upload_cap_mb(env)
        return cls(
            token=token,
            api_base=api_base,
            webhook_url=webhook_url,
            webhook_secret=secret,
            webhook_host=(env.webhook_host or "0.0.0.0").strip(),
            webhook_port=port,
            admin_ids=parse_admin_ids(env.admin_ids),
            upload_cap=cap_mb * 1024 * 1024,
            concurrency=int_setting(env.concurrency, "HUBAO_TELEGRAM_CONCURRENCY", 16, 1, 1000),
        )

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def api_server(self) -> str:
        """The Bot API server, as a message names it."""
        return self.api_base or "api.telegram.org"

    @property
    def download_limit(self) -> int:
        return min(self.upload_cap, TELEGRAM_DOWNLOAD_LIMIT)


def check_token(token: str) -> None:
    """Refuse a missing or malformed bot token (without echoing it: it is a secret)."""
    if not token:
        raise SettingsError(say("bot.telegram.no_token"))
    if not _TOKEN.match(token):
        raise SettingsError(say("bot.telegram.bad_token"))


def parse_admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise SettingsError(say("bot.telegram.bad_admins", bad=part))
        ids.add(int(part))
    return frozenset(ids)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


class ChannelStartError(SettingsError):
    """The bot cannot start with these settings (token refused, server unreachable...)."""


def start_error(key: str, **values: Any) -> ChannelStartError:
    return ChannelStartError(say(f"bot.telegram.{key}", **values))
