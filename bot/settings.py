"""Configuration from the environment: ``Settings`` reads every ``HUBAO_*`` variable, once,
at start; the services are built from it (``bot.bootstrap``), the Telegram settings are
checked by ``bot.telegram.config``. Also the secret key file kept in the data folder, and
the errors a setting that cannot be used raises (Chinese messages that say the fix)."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flows.storage_factory import DEFAULT_DATA_DIR
from rules.catalog import say
from rules.errors import HubaoError

KEY_FILE_NAME = "secret.key"
KEY_BYTES = 32
_KEY_TEXT = re.compile(rf"[0-9a-fA-F]{{{KEY_BYTES * 2}}}")
"""What hubao writes into the key file: the key as hex, nothing else (a newline allowed)."""
_KEY_READ_LIMIT = 4096

POLICY_DIR_NAME = "policy"
_POLICY_DIR_IN_DATA_DIR = Path(POLICY_DIR_NAME)
"""The default of ``Settings.policy_dir``: replaced by ``data_dir / "policy"``."""


_OS_REASONS = {
    errno.ENOENT: "not_found",
    errno.ENOTDIR: "not_a_folder",
    errno.EISDIR: "a_folder",
    errno.EACCES: "no_permission",
    errno.EPERM: "no_permission",
    errno.EROFS: "read_only",
    errno.ENOSPC: "disk_full",
    errno.EIO: "io_error",
    errno.ENAMETOOLONG: "name_too_long",
}


def os_reason(exc: OSError) -> str:
    """An operating system error in a few Chinese words for a message (its English text
    when it is not a common one)."""
    if exc.errno in _OS_REASONS:
        return say(f"bot.os.{_OS_REASONS[exc.errno]}")
    return exc.strerror or unknown_reason()


def unknown_reason() -> str:
    return say("bot.os.unknown")


class SettingsError(HubaoError):
    """A setting that cannot be used; the message says which and how to fix it."""


class SecretKeyError(SettingsError):
    """The key file in the data folder cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class TelegramEnv:
    """The Telegram bot's HUBAO_* values as given (checked by ``TelegramConfig``, only when
    the bot runs: other commands never fail on them)."""

    token: str = ""
    api_base: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_host: str = ""
    webhook_port: str = ""
    admin_ids: str = ""
    max_upload_mb: str = ""
    concurrency: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelegramEnv:
        env = os.environ if env is None else env
        return cls(
            token=env.get("HUBAO_TELEGRAM_TOKEN") or "",
            api_base=env.get("HUBAO_TELEGRAM_API_BASE") or "",
            webhook_url=env.get("HUBAO_WEBHOOK_URL") or "",
            webhook_secret=env.get("HUBAO_WEBHOOK_SECRET") or "",
            webhook_host=env.get("HUBAO_WEBHOOK_HOST") or "",
            webhook_port=env.get("HUBAO_WEBHOOK_PORT") or "",
            admin_ids=env.get("HUBAO_ADMIN_IDS") or "",
            max_upload_mb=env.get("HUBAO_MAX_UPLOAD_MB") or "",
            concurrency=env.get("HUBAO_TELEGRAM_CONCURRENCY") or "",
        )


DEFAULT_UPLOAD_CAP_MB = 10


def int_setting(
    value: str, name: str, default: int, low: int, high: int, message: str = "bad_number"
) -> int:
    """A whole-number setting in ``low..high``; ``default`` when empty."""
    raw = value.strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        text = say(f"bot.telegram.{message}", name=name, low=low, high=high, raw=raw)
        raise SettingsError(text)
    return int(raw)


def upload_cap_mb(env: TelegramEnv) -> int:
    """HUBAO_MAX_UPLOAD_MB, for every channel that takes files (20 MB at most: Telegram's
    own download limit, and far above any unit's roster)."""
    return int_setting(env.max_upload_mb, "HUBAO_MAX_UPLOAD_MB", DEFAULT_UPLOAD_CAP_MB, 1, 20)


def debug_enabled(env: Mapping[str, str] | None = None) -> bool:
    """HUBAO_DEBUG=1: errors are raised with their traceback instead of a short message."""
    env = os.environ if env is None else env
    return env.get("HUBAO_DEBUG", "") not in {"", "0"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Where hubao keeps its files (the default SQLite database, files sent back)."""
    db_url: str | None
    """HUBAO_DB_URL: None means the SQLite file in ``data_dir``."""
    today: dt.date | None
    """HUBAO_TODAY: a fixed date for demos and tests; None means the real date."""
    secret_key: str | None = None
    """HUBAO_SECRET_KEY: keys the ID hashes and seals draft rosters. Processes sharing a
    database must share it; None means a key file kept in ``data_dir``."""
    telegram: TelegramEnv = field(default_factory=TelegramEnv)
    """The Telegram bot's values (HUBAO_TELEGRAM_*, HUBAO_WEBHOOK_*, HUBAO_ADMIN_IDS...)."""
    debug: bool = False
    """HUBAO_DEBUG: see :func:`debug_enabled`."""
    web_trust_proxy: bool = False
    """HUBAO_WEB_TRUST_PROXY=1: ``hubao web`` runs behind our own TLS proxy, so a client's
    address is the last one in X-Forwarded-For (the one the proxy saw), for rate limits."""
    policy_dir: Path = _POLICY_DIR_IN_DATA_DIR
    """HUBAO_POLICY_DIR: the operators' policy years (``hubao policy ...``), read at start
    beside the packaged ones; default the folder ``policy`` in ``data_dir``."""

    def __post_init__(self) -> None:
        # Compared by identity: only the default follows data_dir, never a path given.
        if self.policy_dir is _POLICY_DIR_IN_DATA_DIR:
            object.__setattr__(self, "policy_dir", self.data_dir / POLICY_DIR_NAME)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        today = None
        if raw := env.get("HUBAO_TODAY"):
            from bot.console import BadDate, parse_date

            try:
                today = parse_date(raw, example="2023-07-10")
            except BadDate as exc:
                raise SettingsError(
                    say("bot.settings.bad_today", raw=raw, reason=exc.message)
                ) from None
        return cls(
            data_dir=Path(env.get("HUBAO_DATA_DIR") or DEFAULT_DATA_DIR.expanduser()),
            db_url=env.get("HUBAO_DB_URL") or None,
            today=today,
            secret_key=(env.get("HUBAO_SECRET_KEY") or "").strip() or None,
            telegram=TelegramEnv.from_env(env),
            debug=debug_enabled(env),
            web_trust_proxy=env.get("HUBAO_WEB_TRUST_PROXY", "").strip() == "1",
            policy_dir=(
                Path(raw_policy).expanduser()
                if (raw_policy := env.get("HUBAO_POLICY_DIR"))
                else _POLICY_DIR_IN_DATA_DIR
            ),
        )

    def clock(self) -> dt.date:
        return self.today or dt.date.today()

    def secret(self) -> bytes:
        """HUBAO_SECRET_KEY, or the key file in ``data_dir``, created on first use.

        A key file that is there but unusable is never replaced: data sealed under the old
        key would be lost. The SecretKeyError says what to do instead."""
        if self.secret_key is not None:
            if len(self.secret_key) < 16:
                raise SettingsError(say("bot.settings.short_secret"))
            return self.secret_key.encode("utf-8")
        path = self.data_dir / KEY_FILE_NAME
        key = _read_key(path)
        if key is not None:
            return key
        return _create_key(path)


def _bad_key(path: Path, what: str) -> SecretKeyError:
    return SecretKeyError(say("bot.settings.bad_key", path=path, what=say(f"bot.settings.{what}")))


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``; None when there is no key file yet."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a folder, a device, a pipe: never read
            raise _bad_key(path, "key_not_file")
        with path.open("rb") as f:
            raw = f.read(_KEY_READ_LIMIT)  # what we write is 65 bytes
    except (FileNotFoundError, NotADirectoryError):  # no key yet (or no folder to hold one)
        return None
    except OSError as exc:
        raise SecretKeyError(
            say("bot.settings.key_unreadable", path=path, reason=os_reason(exc))
        ) from None
    text = raw.strip()
    if not text:
        raise _bad_key(path, "key_empty")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise _bad_key(path, "key_foreign") from None
    if not _KEY_TEXT.fullmatch(decoded):
        if len(decoded) < KEY_BYTES * 2 and all(c in "0123456789abcdefABCDEF" for c in decoded):
            raise _bad_key(path, "key_incomplete")
        raise _bad_key(path, "key_foreign")
    return bytes.fromhex(decoded)


def _create_key(path: Path) -> bytes:
    """Write a new key to ``path`` atomically; a key another process wrote first wins.

    The key goes to a private temporary file in the same folder, is flushed to disk, and
    is then linked into place: the key file never exists half written, and an existing
    one is never replaced."""
    folder = path.parent
    key = secrets.token_bytes(KEY_BYTES)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{KEY_FILE_NAME}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SecretKeyError(
            say("bot.settings.key_not_created", folder=folder, reason=os_reason(exc))
        ) from None
    temp = Path(temp_name)
    try:
        try:
            # mkstemp creates the file readable and writable by the owner only (0600).
            data = (key.hex() + "\n").encode("ascii")
            while data:
                data = data[os.write(fd, data) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            # Another process made the key first: use theirs.
            existing = _read_key(path)
            if existing is None:  # it vanished again meanwhile: an operator at work
                raise _bad_key(path, "key_vanished") from None
            return existing
        except OSError:
            # A file system without hard links: replace only while there is still no key.
            if path.exists():
                existing = _read_key(path)
                if existing is not None:
                    return existing
            os.replace(temp, path)
        _sync_folder(folder)
    except OSError as exc:
        raise SecretKeyError(
            say("bot.settings.key_not_written", path=path, reason=os_reason(exc))
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return key


def _sync_folder(folder: Path) -> None:
    """Make the new directory entry durable (POSIX); skipped where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
