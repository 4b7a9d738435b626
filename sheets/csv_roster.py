"""Reading the roster out of a CSV or text file: the encoding Excel on Chinese Windows
saves with (UTF-8, GB18030 or UTF-16) found, the delimiter chosen by the header it makes
readable, and the rows handed to ``sheets.roster_rows.collect`` like a sheet's. Files
with more lines than a sheet can hold, or a line over ``MAX_LINE_CHARS``, are refused.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from rules.catalog import say
from rules.policy import PolicyYear
from rules.text import drop_invisible
from sheets.roster_rows import (
    HEADER_SCAN_ROWS,
    MAX_COLUMNS,
    MAX_LINE_CHARS,
    MAX_ROWS,
    FileFinding,
    Header,
    Progress,
    RosterFile,
    cleaned,
    collect,
    file_finding,
    find_header,
    missing_columns,
    wide_note,
)

_DELIMITERS = (",", "\t", ";")
_LONG_LINE = re.compile(rf"^[^\r\n]{{{MAX_LINE_CHARS}}}", re.MULTILINE)


def _decode(data: bytes) -> str | None:
    # Excel on Chinese Windows saves CSV in GBK, and "Unicode text" in UTF-16; everything
    # else is UTF-8, often with a BOM.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _csv_rows(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_csv(
    data: bytes, name: str, policy: PolicyYear, progress: Progress | None
) -> RosterFile | FileFinding:
    """The roster in the CSV or text file ``data``, or why it cannot be read."""
    text = _decode(data)
    if text is None or "\x00" in text:
        return file_finding("unreadable_file", "corrupt", name=name)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > MAX_ROWS:
        return file_finding("too_large", "too_many_lines", name=name, cap=MAX_ROWS)
    if _LONG_LINE.search(text):
        return file_finding("too_large", "line_too_long", name=name, cap=MAX_LINE_CHARS // 10_000)
    # The delimiter is the one under which the header names the most template columns.
    best: tuple[Header, str] | None = None
    for delimiter in _DELIMITERS:
        try:
            top = [
                cleaned(row[:MAX_COLUMNS])[0]
                for row in itertools.islice(_csv_rows(text, delimiter), HEADER_SCAN_ROWS)
            ]
        except csv.Error:
            continue
        found = find_header(top)
        if found is not None and (best is None or len(found.columns) > len(best[0].columns)):
            best = (found, delimiter)
    if best is None:
        return file_finding("bad_template", "no_header", rows=HEADER_SCAN_ROWS)
    header, delimiter = best
    sheet = drop_invisible(Path(name).stem).strip() or say("sheets.sheet.roster")
    if header.missing:
        return missing_columns(sheet, header)
    wide = False

    def rows() -> Iterator[tuple[int, list[str]]]:
        nonlocal wide
        for number, row in enumerate(_csv_rows(text, delimiter), start=1):
            if not any(row):
                continue
            if len(row) > MAX_COLUMNS:
                wide = wide or any(row[MAX_COLUMNS:])
                row = row[:MAX_COLUMNS]
            yield number, row

    try:
        result = collect(name, sheet, header, rows(), policy, progress, lines - header.row)
    except csv.Error:
        return file_finding("unreadable_file", "corrupt", name=name)
    if wide and isinstance(result, RosterFile):
        return dataclasses.replace(result, notes=(wide_note(sheet),))
    return result
