"""The terminal channel: a chat in the shell, or a scripted replay when stdin is a pipe.

Buttons are shown as numbered choices (typing the number picks one); ``/upload PATH``
sends a file; files hubao sends back are saved in the output folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from flows.engine import Engine
from flows.messages import Incoming, IncomingFile, Reply
from flows.storage import ConversationKey

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROMPT = "您> "


def render(replies: Iterable[Reply], out_dir: Path) -> str:
    """Replies as plain text: choices numbered, files saved and named."""
    lines: list[str] = []
    number = 0  # one numbering across the turn's replies, as the engine counts them
    for reply in replies:
        lines.append(reply.text)
        for choice in reply.choices:
            number += 1
            lines.append(f"  {number}. {choice.label}")
        for f in reply.files:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / Path(f.name).name
            path.write_bytes(f.data)
            lines.append(f"  [文件已保存] {path}" + (f"（{f.caption}）" if f.caption else ""))
        lines.append("")
    return "\n".join(lines)


def to_message(key: ConversationKey, line: str) -> Incoming | str:
    """A typed line as an engine message, or a Chinese error for a bad /upload."""
    text = line.strip()
    message_id = uuid.uuid4().hex
    if text.startswith("/upload"):
        raw = text[len("/upload") :].strip().strip("'\"")
        if not raw:
            return "用法：/upload 文件路径，例如 /upload 参保名单.xlsx"
        path = Path(raw).expanduser()
        try:
            size = path.stat().st_size
            if size > MAX_UPLOAD_BYTES:
                limit = MAX_UPLOAD_BYTES // 1024 // 1024
                return f"文件太大（{size // 1024 // 1024} MB），上限 {limit} MB。"
            return Incoming(key, message_id, file=IncomingFile(path.name, path.read_bytes()))
        except FileNotFoundError:
            return f"找不到文件：{path}"
        except OSError as exc:
            return f"读不了这个文件：{exc.strerror}"
    return Incoming(key, message_id, text=text)


async def run_terminal(
    engine: Engine, key: ConversationKey, stdin: TextIO, stdout: TextIO, out_dir: Path
) -> None:
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        import readline  # noqa: F401 - line editing and history for input()

        first = await engine.handle(Incoming(key, None, text="/start"))
        stdout.write(render(first, out_dir))
    while True:
        try:
            line = input(PROMPT) if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            stdout.write("\n再见！\n")
            return
        if not interactive and line == "":
            return
        if not line.strip():
            continue
        if line.strip() in {"/quit", "/exit", "退出聊天"}:
            stdout.write("再见！\n")
            return
        message = to_message(key, line)
        if isinstance(message, str):
            stdout.write(message + "\n\n")
            continue
        if not interactive:
            stdout.write(f"{PROMPT}{line.strip()}\n")

        async def progress(status: str) -> None:
            stdout.write(f"\r{status}")
            stdout.flush()

        # Progress is redrawn in place on a terminal; a replayed script gets the result only.
        shown = progress if interactive and message.file is not None else None
        replies = await engine.handle(message, progress=shown)
        if shown is not None:
            stdout.write("\n")
        stdout.write(render(replies, out_dir))
        stdout.flush()
