"""The parts of an .xlsx package, read with expat straight from the zip, streaming and
within bounds: the relationships, the list of sheets and the date system, the shared
strings, and which cell styles are dates. Every part's XML counts against one budget of
tags (``MAX_XML_TAGS``); a part with a DTD is refused. The sheets' own rows are read by
``sheets.xlsx_roster`` through ``Package.feed``.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

from rules.catalog import say
from rules.text import drop_invisible
from sheets.roster_rows import (
    MAX_SHARED_CHARS,
    MAX_SHARED_STRINGS,
    MAX_STYLE_TAGS,
    MAX_XML_TAGS,
    Refused,
    too_complex,
    too_many_strings,
)

_CHUNK = 64 * 1024
MAX_TEXT = 32_767
"""Excel's limit on the text of a cell: anything longer is cut there."""
_MAX_FORMAT = 255
# Number formats Excel builds in that show dates or times, the Chinese ones included
# (27-36 and 50-58 in a Chinese Excel); openpyxl's table knows only the first group.
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
# Cells and rows with a format but no value, as Excel writes them for a formatted range:
# removed from the sheet's XML before parsing, at the regular expression engine's speed,
# so a sheet formatted far below its data costs almost nothing. One goes only when the
# next has its own reference (otherwise its place would count for that one).
_EMPTY_CELL = rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,5}")?/>'
_EMPTY_CELLS = re.compile(
    rb'<row r="[0-9]{1,7}"[^<>]{0,200}(?:/>|>(?:' + _EMPTY_CELL + rb")*</row>)"
    rb'(?=<row r="|</sheetData>)'
    rb"|" + _EMPTY_CELL + rb'(?=<c r="|</row>)'
)


class Tags(dict[str, str]):
    """The elements a handler wants, by the name expat gives without namespace processing
    (``c``, or ``x:c`` with a prefix): each maps to its local name, any other to ""."""

    def __init__(self, *wanted: str) -> None:
        super().__init__((name, name) for name in wanted)
        self.wanted = frozenset(wanted)

    def __missing__(self, name: str) -> str:
        local = name.rpartition(":")[2]
        found = local if local in self.wanted else ""
        if len(self) < 1000:  # names are few in a real part; a hostile one gets no cache
            self[name] = found
        return found


# Excel writes characters XML cannot carry as _xHHHH_ (and a literal "_x" as _x005F_x).
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _no_doctype(*_: object) -> None:
    # No part of a workbook has a DTD; refusing one refuses every entity expansion trick.
    raise ValueError("DOCTYPE in a workbook part")


def new_parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    data: Callable[[str], None] | None = None,
) -> Any:
    """An expat parser with these handlers, that buffers text and refuses a DTD."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = _CHUNK
    parser.StartDoctypeDeclHandler = _no_doctype
    parser.EntityDeclHandler = _no_doctype
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if data is not None:
        parser.CharacterDataHandler = data
    return parser


def unescape(text: str) -> str:
    """Text with Excel's ``_xHHHH_`` escapes turned back into the characters."""
    if "_x" not in text:
        return text
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


class TextCapture:
    """The character data of the elements a handler captures (``on``), kept only up to
    Excel's limit on a cell's text: a longer text is cut there, and not even stored."""

    __slots__ = ("on", "parts", "size")

    def __init__(self) -> None:
        self.on = False
        self.parts: list[str] = []
        self.size = 0

    def data(self, chunk: str) -> None:
        """The parser's CharacterDataHandler."""
        if self.on and self.size < MAX_TEXT:
            self.parts.append(chunk)
            self.size += len(chunk)

    def clear(self) -> None:
        if self.parts:
            self.parts = []
            self.size = 0

    def take(self) -> str:
        """The text captured since the last ``take`` or ``clear``, then cleared."""
        if not self.parts:
            return ""
        text = "".join(self.parts)[:MAX_TEXT]
        self.parts = []
        self.size = 0
        return text


@dataclass(frozen=True)
class Sheet:
    """A worksheet as the workbook lists it: its title, its part, whether it shows."""

    name: str
    part: str
    visible: bool


class Package:
    """An .xlsx package: its sheets, shared strings and date styles, read on demand with
    expat from zip streams. Every part's XML counts against one budget of tags."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.members = {
            i.filename.replace("\\", "/").lstrip("/").lower(): i for i in archive.infolist()
        }
        self.tags_left = MAX_XML_TAGS
        rels = self._rels("")
        book = next((p for t, p in rels.values() if t == "officeDocument"), "xl/workbook.xml")
        if book.lower().endswith(".bin"):
            raise Refused("unreadable_file", "xlsb")
        if book.lower() not in self.members:
            raise Refused("unreadable_file", "not_excel")
        parts = self._rels(book)
        self.sheets, self.epoch = self._sheets(book, parts)
        self.shared: list[str] = []
        self.date_styles: frozenset[str] = frozenset()
        self.timedelta_styles: frozenset[str] = frozenset()
        for kind, part in parts.values():
            if kind == "sharedStrings" and part.lower() in self.members:
                self.shared = self._shared_strings(part)
            elif kind == "styles" and part.lower() in self.members:
                self.date_styles, self.timedelta_styles = self._styles(part)

    # -- streaming ------------------------------------------------------------------------

    def feed(
        self,
        part: str,
        parser: Any,
        done: Callable[[], bool],
        cap: int | None = None,
        refusal: Callable[[], Refused] = too_complex,
        sheet: bool = False,
    ) -> Iterator[None]:
        """Feed ``part`` to ``parser`` a chunk at a time, yielding after each, until the
        part ends or ``done()``; at most ``cap`` tags of it when given (then it stops).
        Past the workbook's budget of tags, ``refusal()`` is raised. A ``sheet`` loses
        its empty formatted cells and rows first."""
        info = self.members.get(part.lower())
        if info is None:
            raise ValueError(f"missing part {part}")
        spent = 0
        with self.archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                xml = _EMPTY_CELLS.sub(b"", chunk) if sheet else chunk
                tags = xml.count(b"<") + xml.count(b"/>")
                spent += tags
                self.tags_left -= tags
                if self.tags_left < 0:
                    raise refusal()
                parser.Parse(xml, not chunk)
                yield
                if not chunk or done() or (cap is not None and spent > cap):
                    return

    def _parse(
        self,
        part: str,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None] | None = None,
        data: Callable[[str], None] | None = None,
        *,
        stop_after: str | None = None,
        cap: int | None = None,
        refusal: Callable[[], Refused] = too_complex,
    ) -> None:
        """Parse ``part`` with these handlers: all of it, or up to the end of its first
        ``stop_after`` element (then ``end`` is not used)."""
        ended = False

        def end_of(name: str) -> None:
            nonlocal ended
            ended = ended or name.rpartition(":")[2] == stop_after

        parser = new_parser(start, end_of if stop_after is not None else end, data)
        for _ in self.feed(part, parser, lambda: ended, cap, refusal):
            pass

    # -- the package ------------------------------------------------------------------------

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type's last word, target part) of ``part`` ("" the package)."""
        folder, _, file = part.rpartition("/")
        rels = f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"
        if rels.lower() not in self.members:
            return {}
        found: dict[str, tuple[str, str]] = {}
        tags = Tags("Relationship")

        def start(name: str, attrs: dict[str, str]) -> None:
            if tags[name] != "Relationship" or attrs.get("TargetMode") == "External":
                return
            target = attrs.get("Target", "").replace("\\", "/")
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", "").rpartition("/")[2], target)

        self._parse(rels, start)
        return found

    def _sheets(
        self, book: str, parts: Mapping[str, tuple[str, str]]
    ) -> tuple[list[Sheet], dt.datetime]:
        sheets: list[Sheet] = []
        epoch = WINDOWS_EPOCH
        tags = Tags("sheet", "workbookPr")

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal epoch
            tag = tags[name]
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if k.endswith(":id")), "")
                kind, part = parts.get(rid, ("", ""))
                if kind == "worksheet" and part.lower() in self.members:
                    # Excel's names have at most 31 characters; a longer one is cut there.
                    title = drop_invisible(attrs.get("name", "")).strip()[:31]
                    title = title or say("sheets.sheet.untitled", number=len(sheets) + 1)
                    visible = attrs.get("state", "visible") == "visible"
                    sheets.append(Sheet(title, part, visible))
            elif tag == "workbookPr" and attrs.get("date1904") in ("1", "true"):
                epoch = MAC_EPOCH

        self._parse(book, start, stop_after="sheets")
        return sheets, epoch

    def _shared_strings(self, part: str) -> list[str]:
        strings: list[str] = []
        text = TextCapture()
        chars = 0
        phonetic = False
        tags = Tags("si", "t", "rPh")

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal phonetic
            tag = tags[name]
            if tag == "t":
                text.on = not phonetic
            elif tag == "rPh":
                phonetic = True

        def end(name: str) -> None:
            nonlocal phonetic, chars
            tag = tags[name]
            if tag == "t":
                text.on = False
            elif tag == "si":
                value = unescape(text.take()) if text.parts else ""
                strings.append(value)
                chars += len(value)
                if len(strings) > MAX_SHARED_STRINGS or chars > MAX_SHARED_CHARS:
                    raise too_many_strings()
            elif tag == "rPh":
                phonetic = False

        self._parse(part, start, end, text.data, refusal=too_many_strings)
        return strings

    def _styles(self, part: str) -> tuple[frozenset[str], frozenset[str]]:
        """The style indexes (as cells write them) whose number format is a date or time,
        and those that are a duration."""
        custom: dict[str, str] = {}
        formats: list[str] = []
        in_xfs = False
        tags = Tags("numFmt", "cellXfs", "xf")

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal in_xfs
            tag = tags[name]
            if tag == "xf" and in_xfs:
                formats.append(attrs.get("numFmtId", "0"))
            elif tag == "numFmt":
                code = attrs.get("formatCode", "")
                if len(code) <= _MAX_FORMAT:  # Excel's limit; a longer one is no date
                    custom[attrs.get("numFmtId", "")] = code
            elif tag == "cellXfs":
                in_xfs = True

        self._parse(part, start, stop_after="cellXfs", cap=MAX_STYLE_TAGS)
        kinds: dict[str, tuple[bool, bool]] = {}
        for number in set(formats):
            code = custom.get(number)
            builtin = int(number) if number.isdigit() else -1
            if code is None:
                code = BUILTIN_FORMATS.get(builtin)
            date = builtin in _DATE_FORMAT_IDS and number not in custom
            kinds[number] = (date or is_date_format(code), is_timedelta_format(code))
        dates = frozenset(str(i) for i, n in enumerate(formats) if kinds[n][0])
        durations = frozenset(str(i) for i, n in enumerate(formats) if kinds[n][1])
        return dates, durations
