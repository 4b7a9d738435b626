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

import contextlib
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.console import clean_line, megabytes, read_piped_line, visible
from bot.files import FileRefused, read_regular_file, safe_file_name, save_new_file
from bot.settings import debug_enabled, os_reason, unknown_reason
from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey
from rules.catalog import say

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROMPT = "您> "
QUIT_COMMANDS = frozenset({"/quit", "/exit"})


def _text(key: str, **values: Any) -> str:
    return say(f"bot.terminal.{key}", **values)


def refusal_text(refused: FileRefused, path: Path, cap: int) -> str:
    """The chat's Chinese for a file that was not read."""
    shown = visible(str(path))
    limit = cap // 1024 // 1024
    if refused.reason == "too_large":
        if refused.size is None:
            return _text("too_large_unknown", limit=limit)
        return _text("too_large", size=megabytes(refused.size), limit=limit)
    if refused.reason == "unreadable":
        return _text("unreadable", reason=refused.detail or unknown_reason())
    return _text(refused.reason, path=shown)


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
            name = safe_file_name(f.name)
            try:
                out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                path = save_new_file(out_dir, name, f.data)
            except OSError as exc:
                reason = os_reason(exc)
                lines.append("  " + _text("not_saved", name=visible(name), reason=reason))
                continue
            caption = _text("caption", caption=visible(f.caption)) if f.caption else ""
            lines.append("  " + _text("saved", path=visible(str(path))) + caption)
            if path.name != name:
                said = _text("not_overwritten", name=visible(name), new=visible(path.name))
                lines.append("  " + said)
        lines.append("")
    return "\n".join(lines)


def to_message(key: ConversationKey, line: str) -> Incoming | str:
    """A typed line as an engine message, or a Chinese error for a bad /upload."""
    text = clean_line(line).strip()
    message_id = uuid.uuid4().hex
    if text.startswith("/upload"):
        raw = text[len("/upload") :].strip().strip("'\"")
        if not raw:
            return _text("upload_usage")
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
            if storage_unavailable(exc) and not debug_enabled():
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
            if debug_enabled():
                raise
            if self._engine is None and not storage_unavailable(exc):
                raise  # the engine could not be built at all: stop with that message
            said = _text("db_down" if storage_unavailable(exc) else "internal_error")
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
            chat.write(_text("db_down_at_start") + "\n\n")
        stdout.flush()
    while True:
        try:
            read = clean_line(input(PROMPT)) if interactive else read_piped_line(stdin)
        except (EOFError, KeyboardInterrupt):
            chat.write(f"\n{_text('bye')}\n")
            return
        if read is None:
            return
        line = read.strip()
        if not line:
            continue
        if line in QUIT_COMMANDS or line == _text("quit_word"):
            chat.write(f"{_text('bye')}\n")
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
