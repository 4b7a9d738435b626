"""What hubao prints on a console and reads from it, made safe both ways.

Every text printed goes through :func:`visible` (no control character in a file name or a
roster cell can set the title or the colours); JSON goes out through :func:`json_text`.
Typed lines are decoded leniently and cleaned (:func:`clean_line`): GBK bytes or broken
UTF-8 never stop a command, and no lone surrogate reaches the engine. Dates typed on the
command line or set in the environment are read by :func:`parse_date`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import unicodedata
from typing import Any, TextIO

from rules.catalog import say
from rules.errors import HubaoError

MAX_LINE_BYTES = 64 * 1024
"""A typed line longer than this is cut (the engine refuses long texts with its message)."""

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


def display_width(text: str) -> int:
    """Columns ``text`` takes on a screen (a terminal, a phone's button row): Chinese
    characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


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


def megabytes(size: int) -> str:
    """A file size as users read it: "12.3 MB"."""
    return f"{size / 1024 / 1024:.1f} MB"


# --- what is read ----------------------------------------------------------------------------

_TYPED_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})"
)


class BadDate(HubaoError, ValueError):
    """A typed date that cannot be used; ``message`` says why, in Chinese."""


def parse_date(text: str, example: str = "2023-07-01") -> dt.date:
    """A date given on the command line or in the environment: 2023-07-01, 2023/7/1,
    2023年7月1日 or 20230701. Raises BadDate saying whether the text is no date at all or
    names a day that does not exist (2023-02-30)."""
    value = unicodedata.normalize("NFKC", text).strip()
    match = _TYPED_DATE.fullmatch(value)
    parts = [int(p) for p in (match.groups() if match else ()) if p is not None]
    if len(parts) != 3 or parts[0] < 1:
        raise BadDate(say("bot.date.unreadable", text=text, example=example))
    year, month, day = parts
    try:
        return dt.date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            days = calendar.monthrange(year, month)[1]
            why = say("bot.date.month_days", year=year, month=month, days=days)
        else:
            why = say("bot.date.bad_month")
        raise BadDate(
            say("bot.date.no_such_day", year=year, month=month, day=day, why=why)
        ) from None


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


def read_piped_line(stdin: TextIO) -> str | None:
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
