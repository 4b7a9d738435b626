"""The engine's replies as Telegram messages: HTML escaped and split at Telegram's 4096
characters (counted in UTF-16), choices as inline keyboards laid out for a phone's screen,
button values that fit Telegram's 64 bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from bot.console import display_width
from bot.telegram.api import Button, DocumentOut, Outgoing, TextOut
from flows.messages import Reply
from rules.catalog import say

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def utf16_len(text: str) -> int:
    """Telegram counts text length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def html_chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` escaped for HTML parse mode, in pieces of at most ``limit`` characters,
    split between lines where possible and never inside an entity such as ``&amp;``."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        piece = escape(line)
        joined = f"{current}\n{piece}" if current else piece
        if utf16_len(joined) <= limit:
            current = joined
            continue
        if current:
            chunks.append(current)
        while utf16_len(piece) > limit:
            cut = _cut(piece, limit)
            chunks.append(piece[:cut])
            piece = piece[cut:]
        current = piece
    chunks.append(current)
    # Telegram refuses a message of blank lines only.
    return [c for c in chunks if c.strip()] or [""]


def _cut(piece: str, limit: int) -> int:
    cut = limit
    while utf16_len(piece[:cut]) > limit:
        cut -= 1
    amp = piece.rfind("&", max(0, cut - 6), cut)
    if amp > 0 and ";" not in piece[amp:cut]:
        cut = amp
    return cut


def callback_data(value: str, index: int) -> str:
    """The button's value, or its 1-based number when the value exceeds 64 bytes (pressing
    it then reads as typing the number, which the engine maps to the choice)."""
    if 0 < len(value.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
        return value
    return str(index)


ROW_WIDTH = 24
"""Display width of one keyboard row on a phone, CJK characters counting two."""
ROW_BUTTONS = 4


def keyboard_rows(buttons: Sequence[Button]) -> list[tuple[Button, ...]]:
    """Short labels side by side ("A0", "A0+A1", ...), long ones on a row of their own, in
    order; a row never holds more than fits on a phone's screen."""
    rows: list[list[Button]] = []
    width = 0
    for button in buttons:
        need = display_width(button.label) + 2  # the button's own padding
        if rows and len(rows[-1]) < ROW_BUTTONS and width + need <= ROW_WIDTH:
            rows[-1].append(button)
            width += need
        else:
            rows.append([button])
            width = need
    return [tuple(row) for row in rows]


def render(replies: Sequence[Reply]) -> list[Outgoing]:
    """The engine's replies as the messages to send, in order."""
    out: list[Outgoing] = []
    index = 0  # the engine numbers the choices of a whole answer together
    for reply in replies:
        buttons = []
        for choice in reply.choices:
            index += 1
            buttons.append(Button(choice.label, callback_data(choice.value, index)))
        rows = keyboard_rows(buttons)
        text = reply.text.strip() or (say("bot.telegram.choose") if rows else "")
        if text:
            chunks = html_chunks(text)
            out.extend(TextOut(chunk) for chunk in chunks[:-1])
            out.append(TextOut(chunks[-1], tuple(rows)))
        for file in reply.files:
            caption = html_chunks(file.caption, CAPTION_LIMIT)[0] if file.caption else ""
            name = file.name.replace("\\", "/").rsplit("/", 1)[-1] or say("bot.default_file_name")
            out.append(DocumentOut(name, file.data, caption))
    return out
