"""The terminal channel: a chat in the shell, or a scripted replay when stdin is a pipe.

Buttons are shown as numbered choices (typing the number picks one); ``/upload PATH``
sends a file; files hubao sends back are saved in the output folder, never over a file
already there ("参保汇总 (2).xlsx" then).

What reaches the terminal may come from a user's file or a cell of a roster, so every
text printed goes through :func:`visible` (no control character can set the title or the
colours). What is read from stdin is decoded leniently and cleaned (:func:`clean_line`):
GBK bytes or broken UTF-8 never stop the chat, and no lone surrogate reaches the engine.
When the database cannot be reached the chat says so and keeps going; the next message
tries again.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import errno
import json
import os
import re
import sqlite3
import stat
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, Any, TextIO

from bot.settings import os_reason
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024
"""A typed line longer than this is cut (the engine refuses long texts with its message)."""
PROMPT = "您> "

TEXTS = {
    "db_down": "服务暂时连不上数据库，请稍后再发一次；刚才的消息没有保存。",
    "db_down_at_start": "服务暂时连不上数据库，请稍后再发消息，我会重新连接。",
    "internal_error": "系统暂时出了点问题，刚才的消息没有处理完，请稍后再发一次。",
    "bye": "再见！",
    "upload_usage": "用法：/upload 文件路径，例如 /upload 参保名单.xlsx",
    "not_found": "找不到文件：{path}",
    "folder": "“{path}”是一个文件夹，请写出里面名单文件的路径。",
    "not_regular": "“{path}”不是普通文件（可能是设备或管道），请发送 Excel 或 CSV 文件。",
    "too_large": "文件太大（{size}），上限 {limit} MB。",
    "too_large_unknown": "文件太大，上限 {limit} MB。",
    "no_permission": "没有权限读这个文件：{path}",
    "unreadable": "读不了这个文件：{reason}",
    "saved": "  [文件已保存] {path}",
    "not_overwritten": "  文件夹里已有“{name}”，没有覆盖它，这份另存为“{new}”。",
    "not_saved": "  [文件没能保存] {name}：{reason}，请检查 --out 指定的文件夹。",
}

# --- what is printed -------------------------------------------------------------------------

_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
"""C0 controls but tab and newline, DEL, C1 controls (ESC and CSI included), bidi overrides
that reorder what is shown, and lone surrogates (no encoding can print them)."""


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` safe to print on a terminal: control characters shown as ``\\x1b`` and so on,
    so an escape sequence in a file name or a cell is seen, never obeyed."""
    return _UNPRINTABLE.sub(_shown, text)


_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")


def json_text(obj: Any) -> str:
    """One line of JSON, readable Chinese, and safe on a terminal: ``json`` escapes the C0
    controls; DEL, the C1 controls, bidi overrides and lone surrogates are escaped here."""
    text = json.dumps(obj, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# --- what is read ----------------------------------------------------------------------------

_TYPED_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})"
)


class BadDate(ValueError):
    """A typed date that cannot be used; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_date(text: str, example: str = "2023-07-01") -> dt.date:
    """A date given on the command line or in the environment: 2023-07-01, 2023/7/1,
    2023年7月1日 or 20230701. Raises BadDate saying whether the text is no date at all or
    names a day that does not exist (2023-02-30)."""
    value = unicodedata.normalize("NFKC", text).strip()
    match = _TYPED_DATE.fullmatch(value)
    parts = [int(p) for p in (match.groups() if match else ()) if p is not None]
    if len(parts) != 3 or parts[0] < 1:
        raise BadDate(f"日期“{text}”看不懂，请写成 {example} 这样的格式。")
    year, month, day = parts
    try:
        return dt.date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            why = f"{year}年{month}月只有{calendar.monthrange(year, month)[1]}天"
        else:
            why = "月份只能是1到12"
        raise BadDate(f"{year}年{month}月{day}日不存在（{why}），请检查日期。") from None


_DROPPED = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_line(text: str) -> str:
    """A typed line as the engine may get it: lone surrogates (undecodable bytes) become
    U+FFFD, control characters other than tab (escape sequences, NUL) and BOMs go."""
    return _DROPPED.sub("", _SURROGATE.sub("\ufffd", text))


def decode_line(raw: bytes, encoding: str | None) -> str:
    """Bytes of one line: in the stream's encoding, else UTF-8, else GB18030 (a GBK
    console), else the stream's encoding with undecodable bytes replaced."""
    declared = encoding or "utf-8"
    for candidate in (declared, "utf-8", "gb18030"):
        try:
            return raw.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return raw.decode(declared, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _read_piped_line(stdin: TextIO) -> str | None:
    """The next line of a piped stdin, decoded leniently; None at the end."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # a text-only stream (tests): already decoded
        text = stdin.readline(MAX_LINE_BYTES)
        if text == "":
            return None
        if not text.endswith("\n"):
            while (rest := stdin.readline(MAX_LINE_BYTES)) and not rest.endswith("\n"):
                pass
        return clean_line(text)
    raw: bytes = buffer.readline(MAX_LINE_BYTES)
    if raw == b"":
        return None
    if not raw.endswith(b"\n"):  # too long: the rest of the line is dropped, not read in
        while (more := buffer.readline(MAX_LINE_BYTES)) and not more.endswith(b"\n"):
            pass
    return clean_line(decode_line(raw, getattr(stdin, "encoding", None)))


class FileRefused(Exception):
    """Why a path was not read. ``reason``: not_found, folder, not_regular, too_large,
    no_permission, unreadable; ``size`` when too large and known; ``detail`` the OS text."""

    def __init__(self, reason: str, *, size: int | None = None, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.size = size
        self.detail = detail


def write_private_file(path: Path, data: bytes | None = None) -> IO[bytes]:
    """Open ``path`` for writing, readable by its owner only whatever the umask (saved
    workbooks carry personal data); a symlink placed there is not followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an older file of that name keeps its mode otherwise
    out = os.fdopen(fd, "wb")
    if data is not None:
        with out:
            out.write(data)
    return out


def read_regular_file(path: Path, cap: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``cap`` of them.

    Devices, pipes and folders are refused without reading (``/dev/zero`` never ends, a
    FIFO blocks); the read stops after ``cap + 1`` bytes whatever the file's size claims.
    Raises FileRefused."""
    try:
        before = os.stat(path)
        if stat.S_ISDIR(before.st_mode):
            raise FileRefused("folder")
        if not stat.S_ISREG(before.st_mode):
            raise FileRefused("not_regular")
        if before.st_size > cap:
            raise FileRefused("too_large", size=before.st_size)
        # O_NONBLOCK: were the path swapped for a FIFO since the stat, opening won't hang.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileRefused("not_found") from None
    except PermissionError:
        raise FileRefused("no_permission") from None
    except OSError as exc:
        raise FileRefused("unreadable", detail=os_reason(exc)) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise FileRefused("not_regular")
        chunks: list[bytes] = []
        total = 0
        while total <= cap:
            chunk = os.read(fd, min(1024 * 1024, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise FileRefused("too_large")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused("unreadable", detail=os_reason(exc)) from None
    finally:
        os.close(fd)


def refusal_text(refused: FileRefused, path: Path, cap: int) -> str:
    """The chat's Chinese for a file that was not read."""
    shown = visible(str(path))
    limit = cap // 1024 // 1024
    if refused.reason == "too_large":
        if refused.size is None:
            return TEXTS["too_large_unknown"].format(limit=limit)
        return TEXTS["too_large"].format(size=_size_text(refused.size), limit=limit)
    if refused.reason == "unreadable":
        return TEXTS["unreadable"].format(reason=refused.detail or "未知原因")
    return TEXTS[refused.reason].format(path=shown)


# --- the chat --------------------------------------------------------------------------------


def render(replies: Iterable[Reply], out_dir: Path) -> str:
    """Replies as plain text: choices numbered, files saved (never over an existing file)
    and the path each was saved under said."""
    lines: list[str] = []
    number = 0  # one numbering across the turn's replies, as the engine counts them
    for reply in replies:
        lines.append(visible(reply.text))
        for choice in reply.choices:
            number += 1
            lines.append(f"  {number}. {visible(choice.label)}")
        for f in reply.files:
            name = _file_name(f.name)
            try:
                out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                path = save_new_file(out_dir, name, f.data)
            except OSError as exc:
                reason = os_reason(exc)
                lines.append(TEXTS["not_saved"].format(name=visible(name), reason=reason))
                continue
            caption = f"（{visible(f.caption)}）" if f.caption else ""
            lines.append(TEXTS["saved"].format(path=visible(str(path))) + caption)
            if path.name != name:
                said = TEXTS["not_overwritten"]
                lines.append(said.format(name=visible(name), new=visible(path.name)))
        lines.append("")
    return "\n".join(lines)


MAX_SAME_NAME = 999


def save_new_file(folder: Path, name: str, data: bytes) -> Path:
    """Save ``data`` as a new owner-only file in ``folder``: under ``name``, or, when that
    is taken, "name (2).xlsx", "name (3).xlsx"… An existing file is never replaced, even
    one created by another process at the same moment; a symlink is not followed."""
    stem, suffix = Path(name).stem, Path(name).suffix
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    for n in range(1, MAX_SAME_NAME + 1):
        path = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        try:
            fd = os.open(path, flags, 0o600)  # a new file: 0o600 whatever the umask allows
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except OSError:
            path.unlink(missing_ok=True)  # no half-written file left under that name
            raise
        return path
    raise FileExistsError(errno.EEXIST, f"同名文件已有{MAX_SAME_NAME}个", name)


def _file_name(name: str) -> str:
    """A name to save a file under inside the output folder: no folders, no controls."""
    base = clean_line(Path(name.replace("\\", "/")).name).strip()
    return base if base not in {"", ".", ".."} else "文件"


def to_message(key: ConversationKey, line: str) -> Incoming | str:
    """A typed line as an engine message, or a Chinese error for a bad /upload."""
    text = clean_line(line).strip()
    message_id = uuid.uuid4().hex
    if text.startswith("/upload"):
        raw = text[len("/upload") :].strip().strip("'\"")
        if not raw:
            return TEXTS["upload_usage"]
        path = Path(raw).expanduser()
        try:
            data = read_regular_file(path, MAX_UPLOAD_BYTES)
        except FileRefused as refused:
            return refusal_text(refused, path, MAX_UPLOAD_BYTES)
        return Incoming(key, message_id, file=IncomingFile(path.name, data))
    return Incoming(key, message_id, text=text)


EngineSource = Callable[[], Awaitable[Engine]]
"""Opens the engine (and its database); called again after it failed."""


def storage_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or used right now (stopped,
    restarting, network, a file that cannot be opened), rather than a bug."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, DBAPIError | PoolTimeout | OSError | sqlite3.Error):
        return True
    # asyncpg's own errors, when the driver raises them unwrapped (e.g. while connecting)
    return type(exc).__module__.split(".")[0] == "asyncpg"


def _debug() -> bool:
    """HUBAO_DEBUG=1: errors are raised with their traceback instead of a short message."""
    return os.environ.get("HUBAO_DEBUG", "") not in {"", "0"}


class _Chat:
    """The engine behind the chat, opened (again) on demand, and one turn's handling."""

    def __init__(self, engine: Engine | EngineSource, stdout: TextIO, out_dir: Path) -> None:
        self._engine = engine if isinstance(engine, Engine) else None
        self._open = None if isinstance(engine, Engine) else engine
        self.stdout = stdout
        self.out_dir = out_dir

    def write(self, text: str) -> None:
        self.stdout.write(text)

    async def engine(self) -> Engine:
        """The engine; opening it raises the storage's error if the database is down."""
        if self._engine is None:
            assert self._open is not None
            self._engine = await self._open()
        return self._engine

    async def connect(self) -> bool:
        """Open the engine now: False while the database is down. Any other failure
        (a bad database URL, a damaged key file) is raised to stop the chat."""
        try:
            await self.engine()
        except Exception as exc:
            if storage_unavailable(exc) and not _debug():
                return False
            raise
        return True

    async def handle(self, message: Incoming, interactive: bool) -> str:
        """The text to show for one message: the replies, or why there are none."""

        async def progress(status: str) -> None:
            # Cosmetic: output closed (`| head`) is seen by the next real write, not here.
            with contextlib.suppress(OSError, ValueError):
                self.write(f"\r{visible(status)}")
                self.stdout.flush()

        # Progress is redrawn in place on a terminal; a replayed script gets the result only.
        shown = progress if interactive and message.file is not None else None
        try:
            engine = await self.engine()
            replies = await engine.handle(message, progress=shown)
        except Exception as exc:
            if _debug():
                raise
            if self._engine is None and not storage_unavailable(exc):
                raise  # the engine could not be built at all: stop with that message
            said = TEXTS["db_down"] if storage_unavailable(exc) else TEXTS["internal_error"]
            return ("\n" if shown is not None else "") + said + "\n\n"
        return ("\n" if shown is not None else "") + render(replies, self.out_dir)


async def run_terminal(
    engine: Engine | EngineSource,
    key: ConversationKey,
    stdin: TextIO,
    stdout: TextIO,
    out_dir: Path,
) -> None:
    """Chat until EOF, /quit or Ctrl-C. ``engine`` may be a function opening it: the chat
    then starts even with the database down, and opens it once it is back."""
    chat = _Chat(engine, stdout, out_dir)
    interactive = stdin.isatty() and stdout.isatty()
    connected = await chat.connect()
    if interactive:
        import readline  # noqa: F401 - line editing and history for input()

        if connected:
            chat.write(await chat.handle(Incoming(key, None, text="/start"), interactive))
        else:
            chat.write(TEXTS["db_down_at_start"] + "\n\n")
        stdout.flush()
    while True:
        try:
            read = clean_line(input(PROMPT)) if interactive else _read_piped_line(stdin)
        except (EOFError, KeyboardInterrupt):
            chat.write(f"\n{TEXTS['bye']}\n")
            return
        if read is None:
            return
        line = read.strip()
        if not line:
            continue
        if line in {"/quit", "/exit", "退出聊天"}:
            chat.write(f"{TEXTS['bye']}\n")
            return
        message = to_message(key, line)
        if isinstance(message, str):
            chat.write(visible(message) + "\n\n")
            stdout.flush()
            continue
        if not interactive:
            chat.write(f"{PROMPT}{visible(line)}\n")
        chat.write(await chat.handle(message, interactive))
        stdout.flush()
