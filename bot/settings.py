"""Configuration from the environment, read once at start."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

KEY_FILE_NAME = "secret.key"
KEY_BYTES = 32
_KEY_TEXT = re.compile(rf"[0-9a-fA-F]{{{KEY_BYTES * 2}}}")
"""What hubao writes into the key file: the key as hex, nothing else (a newline allowed)."""
_KEY_READ_LIMIT = 4096


_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径里有一段不是文件夹",
    errno.EISDIR: "这是一个文件夹",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EROFS: "磁盘是只读的",
    errno.ENOSPC: "磁盘空间不足",
    errno.EIO: "磁盘读写出错",
    errno.ENAMETOOLONG: "文件名太长",
}


def os_reason(exc: OSError) -> str:
    """An operating system error in a few Chinese words for a message (its English text
    when it is not a common one)."""
    if exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    return exc.strerror or "未知原因"


class SettingsError(Exception):
    """A setting that cannot be used; the message says which and how to fix it."""


class SecretKeyError(SettingsError):
    """The key file in the data folder cannot be used; the message names it and the fix."""


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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        default = Path.home() / ".local" / "share" / "hubao"
        today = None
        if raw := env.get("HUBAO_TODAY"):
            from bot.terminal import BadDate, parse_date  # the terminal imports this module

            try:
                today = parse_date(raw, example="2023-07-10")
            except BadDate as exc:
                raise SettingsError(f"HUBAO_TODAY={raw}：{exc.message}") from None
        return cls(
            data_dir=Path(env.get("HUBAO_DATA_DIR") or default),
            db_url=env.get("HUBAO_DB_URL") or None,
            today=today,
            secret_key=(env.get("HUBAO_SECRET_KEY") or "").strip() or None,
        )

    def clock(self) -> dt.date:
        return self.today or dt.date.today()

    def secret(self) -> bytes:
        """HUBAO_SECRET_KEY, or the key file in ``data_dir``, created on first use.

        A key file that is there but unusable is never replaced: data sealed under the old
        key would be lost. The SecretKeyError says what to do instead."""
        if self.secret_key is not None:
            if len(self.secret_key) < 16:
                raise SettingsError("HUBAO_SECRET_KEY 太短了，请至少用 16 个字符的随机字符串。")
            return self.secret_key.encode("utf-8")
        path = self.data_dir / KEY_FILE_NAME
        key = _read_key(path)
        if key is not None:
            return key
        return _create_key(path)


def _bad_key(path: Path, what: str) -> SecretKeyError:
    return SecretKeyError(
        f"密钥文件 {path} {what}，无法启动。"
        "如果还没有保存过任何参保数据，删掉这个文件再运行即可自动生成新密钥；"
        "如果已有参保数据，请从备份恢复这个文件（换了密钥，已保存的参保草稿就打不开了）。"
        "也可以用环境变量 HUBAO_SECRET_KEY 提供密钥。"
    )


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``; None when there is no key file yet."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a folder, a device, a pipe: never read
            raise _bad_key(path, "不是普通文件")
        with path.open("rb") as f:
            raw = f.read(_KEY_READ_LIMIT)  # what we write is 65 bytes
    except (FileNotFoundError, NotADirectoryError):  # no key yet (or no folder to hold one)
        return None
    except OSError as exc:
        raise SecretKeyError(
            f"读不了密钥文件 {path}（{os_reason(exc)}）。"
            "请检查这个文件和所在文件夹的权限：运行 hubao 的用户要能读它。"
        ) from None
    text = raw.strip()
    if not text:
        raise _bad_key(path, "是空的（可能上次创建时中断了）")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise _bad_key(path, "的内容不是 hubao 写的密钥") from None
    if not _KEY_TEXT.fullmatch(decoded):
        if len(decoded) < KEY_BYTES * 2 and all(c in "0123456789abcdefABCDEF" for c in decoded):
            raise _bad_key(path, "不完整（可能上次写入时中断了）")
        raise _bad_key(path, "的内容不是 hubao 写的密钥")
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
            f"无法在 {folder} 里创建密钥文件（{os_reason(exc)}）。"
            "请检查 HUBAO_DATA_DIR 指向的文件夹是否可写，或用 HUBAO_SECRET_KEY 提供密钥。"
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
                raise _bad_key(path, "刚被创建又被删掉了") from None
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
            f"无法写入密钥文件 {path}（{os_reason(exc)}）。"
            "请检查磁盘空间和文件夹权限，或用 HUBAO_SECRET_KEY 提供密钥。"
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
