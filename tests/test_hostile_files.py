"""Hostile roster files, each generated here: whatever arrives under the upload cap is
answered within 30 s and 300 MB, with the roster or a Chinese message saying what to fix.

Each file is read in a child process forked from a clean interpreter that has imported
``sheets.roster_file`` (the reader runs nowhere else), so the peak memory measured is the
resident set of a real reading process: the interpreter, its imports, the upload's bytes
and everything the read allocated (``ru_maxrss``, not an estimate from tracemalloc).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rules.policy import latest_policy_year
from rules.roster import Code, RosterField, check_rows
from sheets.roster_file import FileFinding, RosterFile
from sheets.roster_write import write_report

from roster_builders import (
    DATE_STYLE,
    MAIN_NS,
    TEMPLATE_HEADER,
    RawSheet,
    csv_file,
    people,
    raw_xlsx,
    roster_sheet,
    row_values,
    xml_cell,
    xml_row,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="reads in forked children")

POLICY = latest_policy_year()
START = POLICY.coverage.start
# A bound on runaway reading (minutes before the bounded reader), not a speed target.
SECONDS = 30.0
PEAK_MB = 300.0
ROOT = Path(__file__).resolve().parent.parent

# --- the corpus -------------------------------------------------------------------------

Build = Callable[[], tuple[str, bytes]]
CORPUS: dict[str, Build] = {}


def hostile(key: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        CORPUS[key] = build
        return build

    return register


def _person_rows(numbers: list[str], first: int = 2) -> list[bytes]:
    return [xml_row(r, row_values(n, seq=r - 1)) for r, n in enumerate(numbers, start=first)]


def _xfd_rows(first: int, count: int) -> Iterator[bytes]:
    # A single number in the sheet's last column, XFD, on every row.
    for r in range(first, first + count):
        yield f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>'.encode()


def _wide(count: int) -> tuple[str, bytes]:
    rows = [xml_row(1, TEMPLATE_HEADER), *_person_rows(people(2))]
    sheet = RawSheet("参保名单", [*rows, *_xfd_rows(4, count)])
    return "wide.xlsx", raw_xlsx([sheet])


@hostile("xfd_cells_12k_rows")
def _wide_small() -> tuple[str, bytes]:
    return _wide(12_000)


@hostile("xfd_cells_120k_rows")
def _wide_big() -> tuple[str, bytes]:
    return _wide(120_000)


def _birth_rows() -> list[bytes]:
    """Three passport holders whose birth date is a real Excel date (a styled number)."""
    rows = [xml_row(1, TEMPLATE_HEADER)]
    for r in range(2, 5):
        values = row_values(f"E1234567{r}", seq=r - 1, doc_type="护照", sex="男")
        cells = [xml_cell(f"{'ABCDEFGH'[c]}{r}", v) for c, v in enumerate(values) if v != ""]
        cells.insert(5, xml_cell(f"F{r}", 32874, style=DATE_STYLE))  # 1990-01-01
        rows.append(f'<row r="{r}">{"".join(cells)}</row>'.encode())
    return rows


@hostile("xf_style_flood_4m")
def _style_flood() -> tuple[str, bytes]:
    head = (
        f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="4000002"><xf numFmtId="0"/>'
        '<xf numFmtId="14" applyNumberFormat="1"/>'
    ).encode()
    flood = [b"<xf/>" * 4_000_000]
    styles = [head, *flood, b"</cellXfs></styleSheet>"]
    sheet = RawSheet("参保名单", _birth_rows())
    return "styles.xlsx", raw_xlsx([sheet], styles=styles, compresslevel=1)


@hostile("shared_string_flood_6m")
def _string_flood() -> tuple[str, bytes]:
    header = "".join(f'<c r="{"ABCDEFGH"[i]}1" t="s"><v>{i}</v></c>' for i in range(8))
    rows = [f'<row r="1">{header}</row>'.encode(), *_person_rows(people(2))]
    strings = [f"<si><t>{h}</t></si>".encode() for h in TEMPLATE_HEADER]
    flood = [b"<si><t/></si>" * 6_000_000]
    data = raw_xlsx(
        [RawSheet("参保名单", rows)], shared_strings=[*strings, *flood], compresslevel=1
    )
    return "strings.xlsx", data


@hostile("shared_string_long_texts")
def _string_long() -> tuple[str, bytes]:
    header = "".join(f'<c r="{"ABCDEFGH"[i]}1" t="s"><v>{i}</v></c>' for i in range(8))
    rows = [f'<row r="1">{header}</row>'.encode(), *_person_rows(people(2))]
    strings = [f"<si><t>{h}</t></si>".encode() for h in TEMPLATE_HEADER]
    long = ("<si><t>" + "名" * 32_000 + "</t></si>").encode()
    data = raw_xlsx(
        [RawSheet("参保名单", rows)], shared_strings=[*strings, long * 1000], compresslevel=1
    )
    return "long.xlsx", data


@hostile("empty_cell_flood")
def _cell_flood() -> tuple[str, bytes]:
    # Every cell of A:H formatted down to row 600,000: styled, empty, within the columns
    # read. Cells and rows without a reference, as the format allows.
    block = (b"<row>" + b'<c s="1"/>' * 8 + b"</row>") * 10_000
    rows = [xml_row(1, TEMPLATE_HEADER), *_person_rows(people(1)), block * 60]
    return "formatted.xlsx", raw_xlsx([RawSheet("参保名单", rows)], compresslevel=1)


@hostile("formatted_to_row_200000")
def _formatted() -> tuple[str, bytes]:
    # Borders on A1:H200000 as Excel saves them: every cell written, with a style only.
    def rows() -> Iterator[bytes]:
        yield xml_row(1, TEMPLATE_HEADER)
        yield from _person_rows(people(3))
        for r in range(5, 200_001):
            cells = "".join(f'<c r="{c}{r}" s="1"/>' for c in "ABCDEFGH")
            yield f'<row r="{r}" spans="1:8">{cells}</row>'.encode()

    return "borders.xlsx", raw_xlsx([RawSheet("参保名单", rows())], compresslevel=1)


@hostile("a_60mb_cell")
def _huge_cell() -> tuple[str, bytes]:
    [number] = people(1)
    values = row_values(number, name="名" * 20_000_000)
    rows = [xml_row(1, TEMPLATE_HEADER), xml_row(2, values)]
    return "huge.xlsx", raw_xlsx([RawSheet("参保名单", rows)], compresslevel=1)


@hostile("zip_bomb_declared")
def _zip_bomb() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(101):
                member.write(bytes(1024 * 1024))
    return "bomb.xlsx", buffer.getvalue()


@hostile("zip_bomb_lying_sizes")
def _zip_liar() -> tuple[str, bytes]:
    """A real workbook whose sheet inflates to 200 MB while its headers declare 2 KB."""
    sheet = RawSheet("参保名单", [xml_row(1, TEMPLATE_HEADER), *_person_rows(people(1))])
    data = bytearray(raw_xlsx([sheet]))
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(bytes(data))) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                z.writestr(info.filename, source.read(info.filename))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=False) as member:
            member.write(source.read("xl/worksheets/sheet1.xml"))
            for _ in range(200):
                member.write(b" " * (1024 * 1024))
    out = bytearray(buffer.getvalue())
    # Patch the uncompressed size in the local header and in the central directory.
    with zipfile.ZipFile(io.BytesIO(bytes(out))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    struct.pack_into("<I", out, info.header_offset + 22, 2048)
    central = out.rfind(b"PK\x01\x02", 0, out.rfind(b"xl/worksheets/sheet1.xml") + 1)
    struct.pack_into("<I", out, central + 24, 2048)
    return "liar.xlsx", bytes(out)


@hostile("zip_many_members")
def _zip_members() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for i in range(2500):
            z.writestr(f"xl/media/image{i}.png", b"")
    return "members.xlsx", buffer.getvalue()


@hostile("doctype_entity_bomb")
def _doctype() -> tuple[str, bytes]:
    laughs = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 12)
    )
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{laughs}]>'
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>&l11;</t></is></c></row></sheetData></worksheet>'
    ).encode()
    data = raw_xlsx([RawSheet("参保名单", [])])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as z:
        for info in source.infolist():
            body = source.read(info.filename)
            z.writestr(info.filename, sheet if info.filename.endswith("sheet1.xml") else body)
    return "laughs.xlsx", buffer.getvalue()


@hostile("hidden_roster_sheet")
def _hidden() -> tuple[str, bytes]:
    visible, hidden = people(3)[:2], people(3)[2:]
    sheets = [
        roster_sheet("名单", visible),
        roster_sheet("参保名单", hidden, state="hidden", person="隐藏"),
    ]
    return "hidden.xlsx", raw_xlsx(sheets)


@hostile("very_hidden_first_sheet")
def _very_hidden() -> tuple[str, bytes]:
    ids = people(3)
    sheets = [
        roster_sheet("Sheet0", ids[2:], state="veryHidden", person="隐藏"),
        roster_sheet("名单", ids[:2]),
    ]
    return "veryhidden.xlsx", raw_xlsx(sheets)


@hostile("roster_only_on_a_hidden_sheet")
def _hidden_only() -> tuple[str, bytes]:
    sheets = [
        RawSheet("说明", [xml_row(1, ["请填写第二个工作表"])]),
        roster_sheet("参保名单", people(2), state="hidden"),
    ]
    return "hiddenonly.xlsx", raw_xlsx(sheets)


@hostile("two_roster_sheets")
def _two_sheets() -> tuple[str, bytes]:
    ids = people(4)
    sheets = [roster_sheet("一车间", ids[:2]), roster_sheet("二车间", ids[2:], person="李四")]
    return "two.xlsx", raw_xlsx(sheets)


@hostile("roster_and_an_empty_copy")
def _empty_copy() -> tuple[str, bytes]:
    sheets = [roster_sheet("参保名单", people(2)), roster_sheet("参保名单 (2)", [])]
    return "copy.xlsx", raw_xlsx(sheets)


@hostile("person_after_20000_blank_rows")
def _after_blanks() -> tuple[str, bytes]:
    first, last = people(2)

    def rows() -> Iterator[bytes]:
        yield xml_row(1, TEMPLATE_HEADER)
        yield xml_row(2, row_values(first))
        for r in range(3, 20_003):  # blank rows as Excel keeps them: formatted, no values
            yield f'<row r="{r}"><c r="A{r}" s="1"/><c r="D{r}" s="1"/></row>'.encode()
        yield xml_row(20_003, row_values(last, seq=2, name="李四"))

    return "blanks.xlsx", raw_xlsx([RawSheet("参保名单", rows())])


CONTROL_NAMES = ["王\x1b]0;pwned\x07芳", "李\x07四", "赵\u202e六", "钱\x7f\x9b七"]


@hostile("control_characters_csv")
def _control_csv() -> tuple[str, bytes]:
    ids = people(len(CONTROL_NAMES))
    lines = [
        row_values(n, seq=i, name=name)
        for i, (n, name) in enumerate(zip(ids, CONTROL_NAMES, strict=True), 1)
    ]
    header = ["序号", "姓名\x1b[31m*", *TEMPLATE_HEADER[2:]]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    return "控制\x1b]0;x\x07字符.csv", buffer.getvalue().encode("utf-8-sig")


@hostile("control_characters_xlsx")
def _control_xlsx() -> tuple[str, bytes]:
    ids = people(len(CONTROL_NAMES))
    rows = [xml_row(1, ["序号", "姓名\x07*", *TEMPLATE_HEADER[2:]])]
    rows += [
        xml_row(r, row_values(n, seq=r - 1, name=name))
        for r, (n, name) in enumerate(zip(ids, CONTROL_NAMES, strict=True), start=2)
    ]
    return "control.xlsx", raw_xlsx([RawSheet("名单\u202e\x85", rows)])


FORMULA_NAMES = ["=1+1", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","点我")', "@SUM(1)"]


@hostile("formulas_as_text_csv")
def _formula_csv() -> tuple[str, bytes]:
    ids = people(len(FORMULA_NAMES))
    rows = [
        row_values(n, seq=i, name=f)
        for i, (n, f) in enumerate(zip(ids, FORMULA_NAMES, strict=True), 1)
    ]
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([TEMPLATE_HEADER, *rows])
    return "formulas.csv", buffer.getvalue().encode("utf-8")


@hostile("formula_cells_xlsx")
def _formula_xlsx() -> tuple[str, bytes]:
    [first, second] = people(2)
    rows = [
        xml_row(1, TEMPLATE_HEADER),
        xml_row(2, row_values(first), extra=""),
        # A formula with a cached text value, and one never calculated (no value).
        f'<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="str"><f>"李"&amp;"四"</f><v>李四</v></c>'
        f'<c r="C3" t="inlineStr"><is><t>居民身份证</t></is></c>'
        f'<c r="D3" t="inlineStr"><is><t>{second}</t></is></c>'
        '<c r="H3"><f>1/0</f></c><c r="I3" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'.encode(),
    ]
    return "formulas.xlsx", raw_xlsx([RawSheet("参保名单", rows)])


def _csv_bytes(encoding: str, delimiter: str = ",") -> bytes:
    rows = [row_values(n, seq=i) for i, n in enumerate(people(3), 1)]
    with tempfile.TemporaryDirectory() as folder:
        return csv_file(
            Path(folder) / "x.csv", rows, encoding=encoding, delimiter=delimiter
        ).read_bytes()


@hostile("csv_gbk")
def _csv_gbk() -> tuple[str, bytes]:
    return "名单.csv", _csv_bytes("gb18030")


@hostile("csv_utf8")
def _csv_utf8() -> tuple[str, bytes]:
    return "名单.csv", _csv_bytes("utf-8")


@hostile("csv_utf16_tabs")
def _csv_utf16() -> tuple[str, bytes]:
    # Excel's "Unicode 文本" export: UTF-16 with a BOM, tab-separated.
    return "名单.txt", _csv_bytes("utf-16", "\t")


@hostile("csv_three_million_blank_lines")
def _csv_blank_lines() -> tuple[str, bytes]:
    head = _csv_bytes("utf-8")
    return "blank.csv", head + b"\r\n" * 3_000_000


@hostile("csv_one_line_of_ten_million_commas")
def _csv_commas() -> tuple[str, bytes]:
    return "commas.csv", _csv_bytes("utf-8") + b"," * 10_000_000 + b"\r\n"


@hostile("csv_numbered_to_line_1000000")
def _csv_numbered() -> tuple[str, bytes]:
    lines = "".join(f"{n}\r\n" for n in range(4, 1_000_000))
    return "numbered.csv", _csv_bytes("utf-8") + lines.encode()


@hostile("encrypted_ole2")
def _encrypted() -> tuple[str, bytes]:
    # Excel saves a password-protected .xlsx inside an OLE2 compound file.
    return "加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)


@hostile("xls_biff")
def _xls() -> tuple[str, bytes]:
    return "名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x3e\x00\x03\x00" + bytes(8192)


@hostile("truncated_zip")
def _truncated() -> tuple[str, bytes]:
    data = raw_xlsx([roster_sheet("参保名单", people(50))])
    return "truncated.xlsx", data[: len(data) // 2]


@hostile("xlsb")
def _xlsb() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>',
        )
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
    return "名单.xlsb", buffer.getvalue()


@hostile("numbered_rows_to_1m")
def _numbered() -> tuple[str, bytes]:
    # 序号 filled in down to row 1,000,000 and nothing else: rows with a value, not people.
    def rows() -> Iterator[bytes]:
        yield xml_row(1, TEMPLATE_HEADER)
        yield from _person_rows(people(1))
        yield b"".join(
            b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r - 1)
            for r in range(3, 1_000_001)
        )

    return "numbered.xlsx", raw_xlsx([RawSheet("参保名单", rows())], compresslevel=1)


@hostile("notes_column_200k_rows")
def _notes_column() -> tuple[str, bytes]:
    # A text in an extra column on 200,000 rows under two people: read, never a person.
    def rows() -> Iterator[bytes]:
        yield xml_row(1, [*TEMPLATE_HEADER, "备注"])
        yield from _person_rows(people(2))
        yield b"".join(
            b'<row r="%d"><c r="I%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r)
            for r in range(4, 200_004)
        )

    return "notes.xlsx", raw_xlsx([RawSheet("参保名单", rows())], compresslevel=1)


@hostile("fifteen_hundred_sheets")
def _many_sheets() -> tuple[str, bytes]:
    sheets = [roster_sheet(f"名单{i}", []) for i in range(1500)]
    sheets.append(roster_sheet("真的名单", people(1)))
    return "sheets.xlsx", raw_xlsx(sheets)


# --- reading in a child process -------------------------------------------------------------

_SERVER = r"""
import importlib, json, os, pickle, resource, signal, sys, time
module = importlib.import_module(sys.argv[1])
limit, timeout = int(float(sys.argv[2]) * 2**30), int(sys.argv[3])
from rules.policy import latest_policy_year
POLICY = latest_policy_year()

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

def report(path, **facts):
    facts.update(
        seconds=round(time.perf_counter() - started, 2),
        cpu=round(cpu() - cpu_start, 2),
        peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )
    with open(path + ".json", "w") as f:
        json.dump(facts, f, ensure_ascii=False)

for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            with open(request["path"], "rb") as f:
                data = f.read()

            def stop(*_):
                report(request["path"], kind="timeout")
                os._exit(0)

            signal.signal(signal.SIGALRM, stop)
            signal.alarm(timeout)
            started, cpu_start = time.perf_counter(), cpu()
            result = module.read_roster_bytes(data, request["name"], policy=POLICY)
            signal.alarm(0)
            report(request["path"], kind=type(result).__name__,
                   code=getattr(result, "code", None), rows=len(getattr(result, "rows", ())),
                   message=getattr(result, "message", None))
            if request["pickled"]:
                with open(request["path"] + ".pickle", "wb") as f:
                    pickle.dump(result, f)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": status}), flush=True)
"""


@dataclasses.dataclass(frozen=True)
class Measured:
    result: RosterFile | FileFinding | None
    seconds: float
    peak_mb: float
    summary: dict[str, Any]


class Reader:
    """A clean interpreter that has imported the reader and forks one child per file."""

    def __init__(
        self, module: str = "sheets.roster_file", *, timeout: float = 60, limit_gb: float = 4
    ):
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = {**os.environ, "PYTHONPATH": path}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVER, module, str(limit_gb), str(int(timeout))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )

    def measure(self, path: Path, name: str, *, pickled: bool = True) -> Measured:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"path": str(path), "name": name, "pickled": pickled}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        status = json.loads(self.process.stdout.readline())["status"]
        out = Path(f"{path}.json")
        if not out.exists():
            return Measured(None, float("inf"), float("inf"), {"killed": status})
        summary = json.loads(out.read_text(encoding="utf-8"))
        result = None
        if pickled and summary["kind"] != "timeout":
            result = pickle.loads(Path(f"{path}.pickle").read_bytes())
        return Measured(result, summary["seconds"], summary["peak_mb"], summary)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


# --- what each file gives ---------------------------------------------------------------

Check = Callable[[Any], None]
EXPECT: dict[str, Check] = {}


def expect(*keys: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        for key in keys:
            EXPECT[key] = check
        return check

    return register


def refused(code: str, *words: str) -> Check:
    def check(result: Any) -> None:
        assert isinstance(result, FileFinding), result
        assert result.code == code, result
        for word in words:
            assert word in result.message, result.message

    return check


def _roster(result: Any) -> RosterFile:
    assert isinstance(result, RosterFile), result
    return result


def _check(roster: RosterFile):  # type: ignore[no-untyped-def]
    return check_rows(roster.rows, policy=POLICY, start=START, headers=roster.headers)


@expect("xfd_cells_12k_rows", "xfd_cells_120k_rows")
def _only_the_first_columns_are_read(result: Any) -> None:
    roster = _roster(result)
    assert [r.row for r in roster.rows] == [2, 3]
    assert max(len(values) for values in roster.cells) <= 64
    assert any("BL列以后的内容没有读取" in note for note in roster.notes), roster.notes
    assert len(_check(roster).people) == 2


@expect("xf_style_flood_4m")
def _dates_still_known_under_a_style_flood(result: Any) -> None:
    roster = _roster(result)
    assert roster.cells[1][5] == dt.datetime(1990, 1, 1)
    assert [p.birth_date for p in _check(roster).people] == [dt.date(1990, 1, 1)] * 3


EXPECT["shared_string_flood_6m"] = refused("too_large", "文字太多", "只保留名单所在的工作表")
EXPECT["shared_string_long_texts"] = refused("too_large", "文字太多")
EXPECT["empty_cell_flood"] = refused("too_large", "格子太多", "多余的行列")
EXPECT["numbered_rows_to_1m"] = refused("too_large", "格子太多")
EXPECT["notes_column_200k_rows"] = refused("too_large", "格子太多")
EXPECT["zip_bomb_declared"] = refused("too_large", "解压后的内容太大")
EXPECT["zip_bomb_lying_sizes"] = refused("unreadable_file", "损坏")
EXPECT["zip_many_members"] = refused("too_large")
EXPECT["doctype_entity_bomb"] = refused("unreadable_file", "损坏")
EXPECT["roster_only_on_a_hidden_sheet"] = refused("hidden_sheet", "“参保名单”", "取消隐藏")
EXPECT["two_roster_sheets"] = refused(
    "several_sheets", "“一车间”、“二车间”", "同一个工作表", "分别检查"
)
EXPECT["csv_three_million_blank_lines"] = refused("too_large", "行", "空行")
EXPECT["csv_one_line_of_ten_million_commas"] = refused("too_large", "一行")
EXPECT["csv_numbered_to_line_1000000"] = refused("too_large", "格子太多")
EXPECT["encrypted_ole2"] = refused("unreadable_file", "密码", "另存为")
EXPECT["xls_biff"] = refused("unreadable_file", ".xls", "另存为")
EXPECT["truncated_zip"] = refused("unreadable_file", "损坏")
EXPECT["xlsb"] = refused("unreadable_file", ".xlsb", "另存为")


@expect("a_60mb_cell")
def _a_cell_is_cut_at_excels_limit(result: Any) -> None:
    assert _roster(result).rows[0].cell(RosterField.NAME) == "名" * 32_767


@expect("formatted_to_row_200000")
def _formatted_cells_cost_nothing(result: Any) -> None:
    assert len(_check(_roster(result)).people) == 3


@expect("fifteen_hundred_sheets")
def _the_one_sheet_with_people(result: Any) -> None:
    roster = _roster(result)
    assert roster.sheet == "真的名单" and len(roster.ignored_sheets) == 1500
    assert any("等1500个" in note for note in roster.notes)


@expect("hidden_roster_sheet")
def _a_hidden_sheet_is_never_the_roster(result: Any) -> None:
    roster = _roster(result)
    assert roster.sheet == "名单"
    assert {r.cell(RosterField.NAME) for r in roster.rows} == {"张三"}
    assert roster.ignored_sheets == ("参保名单",)
    assert any("隐藏的工作表“参保名单”没有检查" in note for note in roster.notes)


@expect("very_hidden_first_sheet")
def _a_very_hidden_first_sheet_is_skipped(result: Any) -> None:
    roster = _roster(result)
    assert roster.sheet == "名单" and len(roster.rows) == 2
    assert "隐藏" not in {r.cell(RosterField.NAME) for r in roster.rows}
    assert roster.ignored_sheets == ("Sheet0",)


@expect("roster_and_an_empty_copy")
def _an_empty_copy_is_named(result: Any) -> None:
    roster = _roster(result)
    assert roster.sheet == "参保名单" and len(roster.rows) == 2
    assert roster.ignored_sheets == ("参保名单 (2)",)
    assert any("只有表头" in note for note in roster.notes)


@expect("person_after_20000_blank_rows")
def _no_one_is_dropped_after_blank_rows(result: Any) -> None:
    roster = _roster(result)
    assert [r.row for r in roster.rows] == [2, 20_003]
    assert len(roster.cells) == 20_003
    assert len(_check(roster).people) == 2


def _no_controls(text: str) -> bool:
    return not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in text)


def _cleaned_roster(roster: RosterFile, sheet: str) -> None:
    assert roster.sheet == sheet
    assert [r.cell(RosterField.NAME) for r in roster.rows] == ["王芳", "李四", "赵六", "钱七"]
    assert roster.headers[RosterField.NAME] == "姓名*"
    assert all(_no_controls(str(v)) for values in roster.cells for v in values)
    result = _check(roster)
    assert [(f.row, f.column, f.code) for f in result.findings] == [
        (r, "姓名*", Code.CONTROL_CHARS) for r in range(2, 6)
    ]
    assert "控制字符" in result.findings[0].message
    assert [p.name for p in result.people] == ["王芳", "李四", "赵六", "钱七"]
    out = io.BytesIO()
    write_report(out, roster, result)  # the writers never see a control character
    texts = [str(c.value) for ws in openpyxl.load_workbook(out).worksheets for c in ws["B"]]
    assert "王芳" in texts and all(_no_controls(t) for t in texts)


@expect("control_characters_csv")
def _control_characters_in_a_csv(result: Any) -> None:
    roster = _roster(result)
    assert roster.filename == "控制字符.csv"
    _cleaned_roster(roster, "控制字符")


@expect("control_characters_xlsx")
def _control_characters_in_a_workbook(result: Any) -> None:
    _cleaned_roster(_roster(result), "名单")


@expect("formulas_as_text_csv")
def _formula_text_stays_text(result: Any) -> None:
    roster = _roster(result)
    assert [r.cell(RosterField.NAME) for r in roster.rows] == FORMULA_NAMES
    out = io.BytesIO()
    write_report(out, roster, _check(roster))
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert [ws.cell(r, 2).value for r in range(2, 6)] == FORMULA_NAMES
    assert {ws.cell(r, 2).data_type for r in range(2, 6)} == {"s"}


@expect("formula_cells_xlsx")
def _formulas_give_their_cached_values(result: Any) -> None:
    roster = _roster(result)
    assert roster.rows[1].cell(RosterField.NAME) == "李四"
    assert roster.cells[2][7:9] == (None, "#DIV/0!")  # never calculated: no value
    assert [(f.row, f.code) for f in _check(roster).findings] == [(3, Code.MISSING_REQUIRED)]


@expect("csv_gbk", "csv_utf8", "csv_utf16_tabs")
def _csv_as_excel_saves_it(result: Any) -> None:
    roster = _roster(result)
    assert _check(roster).findings == () and len(_check(roster).people) == 3


# --- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reader() -> Iterator[Reader]:
    process = Reader()
    yield process
    process.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def test_every_file_in_the_corpus_has_an_expectation():
    assert set(EXPECT) == set(CORPUS)


@pytest.mark.parametrize("key", list(CORPUS))
def test_a_hostile_file_is_answered_in_time_and_memory(key: str, reader: Reader, folder: Path):
    name, data = CORPUS[key]()
    path = folder / f"{key}{Path(name).suffix}"
    path.write_bytes(data)
    measured = reader.measure(path, name)
    path.unlink()
    print(f"{key}: {len(data) // 1024} KB, {measured.summary}")
    assert measured.result is not None, measured.summary
    assert measured.seconds < SECONDS, measured.summary
    assert measured.peak_mb < PEAK_MB, measured.summary
    EXPECT[key](measured.result)
