"""Roster files as handlers really make them: reading, the template, the report, the clean
file, and files that cannot be read at all."""

import datetime as dt
import io
import random
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.policy import latest_policy_year
from rules.roster import Code, RosterField, check_rows
from sheets.roster_file import FileFinding, RosterFile, read_roster, read_roster_bytes
from sheets.roster_write import write_clean, write_report, write_template

from roster_builders import (
    MAIN_NS,
    TEMPLATE_HEADER,
    RawSheet,
    csv_file,
    id_number,
    people,
    raw_xlsx,
    reorder,
    roster_sheet,
    row_values,
    workbook,
    xml_cell,
    xml_row,
)

POLICY = latest_policy_year()
START = POLICY.coverage.start
RED, YELLOW = "FFC7CE", "FFEB9C"


def read(path, **kw):
    result = read_roster(path, policy=POLICY, **kw)
    assert isinstance(result, RosterFile), result
    return result


def refused(path, **kw):
    result = read_roster(path, policy=POLICY, **kw)
    assert isinstance(result, FileFinding), result
    return result


def check(roster):
    return check_rows(roster.rows, policy=POLICY, start=START, headers=roster.headers)


def codes(roster):
    return [(f.row, f.code) for f in check(roster).findings]


# --- the template ---------------------------------------------------------------------


def test_template_has_the_platform_header_text_id_column_and_drop_downs(tmp_path):
    path = tmp_path / "模板.xlsx"
    write_template(path, policy=POLICY)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["参保名单", "填写说明"]
    ws = wb["参保名单"]
    assert [c.value for c in ws[1]] == TEMPLATE_HEADER
    assert ws["D2"].number_format == "@"
    assert ws[f"D{POLICY.roster.max_rows_per_file + 1}"].number_format == "@"
    last = POLICY.roster.max_rows_per_file + 1
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert "居民身份证" in lists[f"C2:C{last}"] and "护照" in lists[f"C2:C{last}"]
    assert lists[f"E2:E{last}"] == '"男,女"'
    assert lists[f"H2:H{last}"] == '"是,否"'
    guide = "\n".join(str(c.value) for c in wb["填写说明"]["A"] if c.value)
    for words in (
        "姓名、证件类型、证件号码、是否有社保",
        "性别和出生日期必须填写",
        "5000人",
        "不要修改表头",
    ):
        assert words in guide


def test_the_empty_template_reads_as_an_empty_roster(tmp_path):
    path = tmp_path / "模板.xlsx"
    write_template(path, policy=POLICY)
    assert refused(path).code == "empty_roster"


# --- reading ------------------------------------------------------------------------------


def test_title_rows_above_the_header_keep_excel_row_numbers(tmp_path):
    ids = people(2)
    path = workbook(
        tmp_path / "名单.xlsx",
        [row_values(ids[0]), row_values(ids[1], seq=2, si="否"), row_values("123", seq=3)],
        title_rows=["某某公司2023年度互助保障参保名单", "填表日期：2023年6月5日"],
    )
    roster = read(path)
    assert roster.header_row == 3
    assert [r.row for r in roster.rows] == [4, 5, 6]
    assert codes(roster) == [(6, Code.ID_FORMAT)]


def test_columns_in_any_order_with_synonyms_and_extra_columns(tmp_path):
    ids = people(2)
    rows = [row_values(ids[0], phone="13812345678"), row_values(ids[1], si="无")]
    # 是否有社保, 备注(extra), 身份证号码, 姓名, 证件类型, 联系电话
    header = ["有无社保", "备注", "身份证号码", "员工姓名", "证件类型", "联系电话"]
    shuffled = [[r[7], "备注", r[3], r[1], r[2], r[6]] for r in rows]
    roster = read(workbook(tmp_path / "名单.xlsx", shuffled, header=header))
    assert roster.headers[RosterField.ID_NUMBER] == "身份证号码"
    assert codes(roster) == []
    assert [p.has_social_insurance for p in check(roster).people] == [True, False]


@pytest.mark.parametrize(
    "header",
    [
        ["姓名", "证件类型", "证件号", "是否有社保"],
        ["姓名 *", "证件类型（必填）", "身份证号", "是否有社保*"],
        ["姓名", "证件类型", "身份证", "社保"],
        ["姓 名", "证件类型", "证件号码", "是否有社保(是/否)"],
    ],
)
def test_header_synonyms(tmp_path, header):
    [number] = people(1)
    path = workbook(tmp_path / "名单.xlsx", [["李四", "身份证", number, "是"]], header=header)
    assert codes(read(path)) == []


def test_the_roster_sheet_is_found_among_others(tmp_path):
    path = workbook(
        tmp_path / "名单.xlsx", [row_values(people(1)[0])], sheet="Sheet2", other_sheets=["封面"]
    )
    roster = read(path)
    assert roster.sheet == "Sheet2" and codes(roster) == []


@pytest.mark.parametrize("number", [310101199001010252, 3.10101199001012e17])
def test_an_id_stored_as_a_number_is_reported_not_repaired(tmp_path, number):
    path = workbook(tmp_path / "名单.xlsx", [row_values(number)])
    roster = read(path)
    assert codes(roster) == [(2, Code.NUMERIC_ID)]
    assert check(roster).people == ()


@pytest.mark.parametrize(
    "birth",
    [dt.datetime(1990, 1, 1), dt.date(1990, 1, 1), 32874, "1990-01-01", "1990/1/1", 19900101],
)
def test_birth_dates_as_date_cells_serial_numbers_or_text(tmp_path, birth):
    path = workbook(
        tmp_path / "名单.xlsx",
        [row_values("E12345678", doc_type="护照", sex="男", birth=birth)],
    )
    roster = read(path)
    assert codes(roster) == []
    assert check(roster).people[0].birth_date == dt.date(1990, 1, 1)


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", ","), ("gb18030", ","), ("utf-8", "\t")]
)
def test_csv_in_the_encodings_excel_saves(tmp_path, encoding, delimiter):
    ids = people(2)
    rows = [row_values(ids[0]), row_values(ids[1], si="否"), row_values("3.10101E+17")]
    path = csv_file(tmp_path / "名单.csv", rows, encoding=encoding, delimiter=delimiter)
    assert codes(read(path)) == [(4, Code.NUMERIC_ID)]


def test_progress_is_reported_for_large_files(tmp_path):
    rows = [row_values(n, seq=i) for i, n in enumerate(people(1200), start=1)]
    path = csv_file(tmp_path / "名单.csv", rows)
    calls = []
    roster = read(path, progress=lambda done, total: calls.append((done, total)))
    assert len(roster.rows) == 1200
    assert calls[0] == (500, 1200)
    assert calls[-1] == (1200, 1200)


# --- file findings --------------------------------------------------------------------------


def test_a_missing_required_column_is_named(tmp_path):
    header = ["序号", "姓名*", "证件号码*", "性别", "是否有社保*"]
    path = workbook(tmp_path / "名单.xlsx", [[1, "张三", people(1)[0], "", "是"]], header=header)
    finding = refused(path)
    assert finding.code == "bad_template"
    assert "“证件类型”" in finding.message


def test_no_header_in_the_first_rows(tmp_path):
    path = workbook(tmp_path / "名单.xlsx", [["张三", "x"]], header=["甲", "乙"])
    finding = refused(path)
    assert finding.code == "bad_template" and "表头" in finding.message


def test_over_the_per_file_limit_asks_to_split(tmp_path):
    limit = POLICY.roster.max_rows_per_file
    rows = [row_values(n, seq=i) for i, n in enumerate(people(limit + 1), start=1)]
    finding = refused(csv_file(tmp_path / "名单.csv", rows))
    assert finding.code == "too_many_rows"
    assert f"{limit}人" in finding.message and "拆成" in finding.message
    assert isinstance(
        read_roster(csv_file(tmp_path / "ok.csv", rows[:limit]), policy=POLICY), RosterFile
    )


def test_the_limit_comes_from_the_policy_data(tmp_path):
    small = POLICY.model_copy(
        update={"roster": POLICY.roster.model_copy(update={"max_rows_per_file": 2})}
    )
    path = workbook(tmp_path / "名单.xlsx", [row_values(n) for n in people(3)])
    finding = read_roster(path, policy=small)
    assert isinstance(finding, FileFinding) and finding.code == "too_many_rows"


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("名单.xlsx", b"", "空的"),
        ("名单.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "密码"),
        ("名单.xls", "<html><table><tr><td>姓名</td></tr></table></html>".encode(), "另存为"),
        ("名单.xlsx", b"PK\x03\x04 this is not really a zip", "损坏"),
        ("名单.csv", b"\x00\x01\x02\x03binary", "损坏"),
        ("名单.png", bytes(range(256)) * 4, "损坏"),
    ],
)
def test_files_that_are_not_spreadsheets(name, data, words):
    finding = read_roster_bytes(data, name, policy=POLICY)
    assert isinstance(finding, FileFinding)
    assert finding.code == "unreadable_file"
    assert words in finding.message


def test_missing_file_is_a_file_finding(tmp_path):
    assert refused(tmp_path / "没有这个文件.xlsx").code == "unreadable_file"


def test_too_many_bytes(tmp_path):
    path = workbook(tmp_path / "名单.xlsx", [row_values(people(1)[0])])
    finding = refused(path, max_bytes=100)
    assert finding.code == "too_large"


def test_a_zip_bomb_is_refused_from_the_zip_directory_before_opening(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(101):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    finding = read_roster_bytes(data, "名单.xlsx", policy=POLICY)
    assert isinstance(finding, FileFinding) and finding.code == "too_large"


def test_empty_roster(tmp_path):
    finding = refused(workbook(tmp_path / "名单.xlsx", [[None] * 8, [3]]))
    assert finding.code == "empty_roster"


# --- report and clean file ------------------------------------------------------------------


def fill(ws, ref):
    cell = ws[ref]
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type else None


def test_report_highlights_each_bad_cell_and_explains_it_in_the_row(tmp_path):
    ids = people(3)
    over_age = id_number(dt.date(1960, 1, 1), male=False)
    rows = [
        row_values(ids[0]),
        row_values(ids[1], seq=2, sex="女" if ids[1][16] in "13579" else "男"),  # mismatch
        row_values("110105491231002", seq=3),  # old 15-digit number
        row_values(over_age, seq=4),
        row_values(ids[2], seq=5, si="不清楚", name=""),
    ]
    path = workbook(tmp_path / "名单.xlsx", rows, title_rows=["参保名单"])
    roster = read(path)
    out = tmp_path / "结果.xlsx"
    write_report(out, roster, check(roster))

    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws["I2"].value == "问题说明"
    assert ws["D3"].value == ids[0] and fill(ws, "D3") is None and ws["I3"].value is None
    assert fill(ws, "E4") == RED and "性别" in ws["I4"].value
    assert fill(ws, "D5") == RED and "11010519491231002X" in ws["I5"].value
    assert fill(ws, "D6") == YELLOW and "社保尚在缴金" in ws["I6"].value
    assert fill(ws, "B7") == RED and fill(ws, "H7") == RED
    assert ws["A1"].value == "参保名单"
    summary = "\n".join(str(c.value) for c in wb["检查结果"]["A"] if c.value)
    assert "共5行" in summary and "id_old_15" in summary
    listing = list(wb["问题清单"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[2]) for r in listing][:2] == [(4, "gender_mismatch"), (5, "id_old_15")]


def test_clean_file_keeps_valid_rows_normalized_and_rechecks_with_no_findings(tmp_path):
    ids = people(3)
    wide = ids[1].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows = [
        row_values(ids[0], phone="138 1234 5678", si="Y"),
        row_values(f" {wide} ", seq=2, doc_type="身份证", si="无"),
        row_values("E1234567", seq=3, doc_type="护照", sex="女", birth=dt.date(1991, 2, 3)),
        row_values(3.10101199001012e17, seq=4),  # dropped: numeric ID
        row_values(ids[2], seq=5, si="?"),  # dropped: bad SI flag
    ]
    roster = read(workbook(tmp_path / "名单.xlsx", rows))
    out = tmp_path / "可导入.xlsx"
    assert write_clean(out, check(roster), policy=POLICY) == 3

    ws = openpyxl.load_workbook(out)["参保名单"]
    assert [c.value for c in ws[1]] == TEMPLATE_HEADER
    assert [c.value for c in ws[2]] == [
        1,
        "张三",
        "居民身份证",
        ids[0],
        ws["E2"].value,
        ws["F2"].value,
        "13812345678",
        "是",
    ]
    assert ws["D3"].value == ids[1] and ws["D3"].data_type == "s" and ws["D3"].number_format == "@"
    assert [c.value for c in ws[4]][2:6] == ["护照", "E1234567", "女", "1991-02-03"]
    assert ws.max_row == 4

    again = read(out)
    assert check(again).findings == ()
    assert len(check(again).people) == 3


def test_report_of_a_csv_whose_name_excel_would_refuse_as_a_sheet_title(tmp_path):
    rows = [row_values(people(1)[0]), row_values("123", seq=2)]
    roster = read(csv_file(tmp_path / "名单[6月]:终稿?.csv", rows))
    out = tmp_path / "结果.xlsx"
    write_report(out, roster, check(roster))
    ws = openpyxl.load_workbook(out).worksheets[0]
    assert ws.title == "名单6月终稿"
    assert fill(ws, "D3") == RED and ws["D2"].value == people(1)[0]


def test_clean_file_keeps_over_age_people_who_can_be_confirmed(tmp_path):
    over_age = id_number(dt.date(1960, 1, 1))
    roster = read(workbook(tmp_path / "名单.xlsx", [row_values(over_age)]))
    out = tmp_path / "可导入.xlsx"
    write_clean(out, check(roster), policy=POLICY)
    assert codes(read(out)) == [(2, Code.OVER_AGE)]


# --- fuzz: no exception ever escapes the reader ---------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from(["名单.xlsx", "名单.csv", "名单", "名单.xls"]))
def test_random_bytes_never_raise(data, name):
    assert isinstance(read_roster_bytes(data, name, policy=POLICY), FileFinding | RosterFile)


def _valid_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(TEMPLATE_HEADER)
    for i, n in enumerate(people(20), start=1):
        ws.append(row_values(n, seq=i))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


VALID_XLSX = _valid_xlsx()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(VALID_XLSX) - 1))
def test_truncated_workbooks_never_raise(cut):
    result = read_roster_bytes(VALID_XLSX[:cut], "名单.xlsx", policy=POLICY)
    assert isinstance(result, FileFinding)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=20))
def test_mutated_workbooks_never_raise(rng: random.Random, flips):
    data = bytearray(VALID_XLSX)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    result = read_roster_bytes(bytes(data), "名单.xlsx", policy=POLICY)
    if isinstance(result, RosterFile):
        check(result)


cell_values = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), max_size=25),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.lists(cell_values, min_size=0, max_size=10), min_size=1, max_size=8))
def test_garbage_cells_give_findings_never_an_exception(tmp_path, rows):
    path = workbook(tmp_path / "名单.xlsx", rows)
    result = read_roster(path, policy=POLICY)
    if isinstance(result, RosterFile):
        out = tmp_path / "结果.xlsx"
        write_report(out, result, check(result))
        write_clean(tmp_path / "可导入.xlsx", check(result), policy=POLICY)


def test_reorder_helper_keeps_the_template_readable(tmp_path):
    [number] = people(1)
    order = [7, 3, 1, 2, 0, 4, 5, 6]
    rows = reorder([row_values(number)], order)
    header = [TEMPLATE_HEADER[i] for i in order]
    assert codes(read(workbook(tmp_path / "名单.xlsx", rows, header=header))) == []


# --- workbooks as Excel and other programs write them -----------------------------------------


def _sheet_xml(rows: str, *, prefix: str = "", ns: str = MAIN_NS, dimension: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f"xmlns:{prefix}" if prefix else "xmlns"
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<{p}worksheet {xmlns}="{ns}">{dimension}<{p}sheetData>{rows}</{p}sheetData>'
        f"</{p}worksheet>"
    ).encode()


def _with_member(data: bytes, name: str, body: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as z:
        for info in source.infolist():
            z.writestr(info.filename, body if info.filename == name else source.read(info))
    return buffer.getvalue()


def _read_bytes(data: bytes, **kw):
    result = read_roster_bytes(data, "名单.xlsx", policy=POLICY, **kw)
    assert isinstance(result, RosterFile), result
    return result


def test_shared_strings_with_rich_text_phonetics_and_excel_escapes():
    [number] = people(1)
    strings = [*TEMPLATE_HEADER, "张三", "居民身份证", number, "是"]
    si = [f"<si><t>{s}</t></si>".encode() for s in strings]
    # 张三 in two runs of rich text with a phonetic guide; a note with Excel's escapes.
    si[8] = (
        "<si><r><rPr><b/></rPr><t>张</t></r><r><t>三</t></r><rPh><t>zhang</t></rPh></si>".encode()
    )
    si.append(b"<si><t>A_x000D__x005F_x0041_</t></si>")
    cells = "".join(f'<c r="{"ABCDEFGH"[i]}1" t="s"><v>{i}</v></c>' for i in range(8))
    row = '<c r="B2" t="s"><v>8</v></c><c r="C2" t="s"><v>9</v></c><c r="D2" t="s"><v>10</v></c>'
    row += '<c r="H2" t="s"><v>11</v></c><c r="I2" t="s"><v>12</v></c>'
    rows = [f'<row r="1">{cells}</row>'.encode(), f'<row r="2">{row}</row>'.encode()]
    roster = _read_bytes(raw_xlsx([RawSheet("参保名单", rows)], shared_strings=si))
    assert roster.rows[0].cell(RosterField.NAME) == "张三"
    assert roster.cells[1][8] == "A\r_x0041_"
    assert codes(roster) == []


def test_a_prefixed_strict_workbook_with_cells_and_rows_without_references():
    [number] = people(1)
    strict = "http://purl.oclc.org/ooxml/spreadsheetml/main"
    cells = "".join(
        f'<x:c t="inlineStr"><x:is><x:t>{h}</x:t></x:is></x:c>' for h in TEMPLATE_HEADER
    )
    values = ["1", "张三", "居民身份证", number, "", "", "", "是"]
    person = "".join(
        f'<x:c t="inlineStr"><x:is><x:t>{v}</x:t></x:is></x:c>' if v else "<x:c/>" for v in values
    )
    body = _sheet_xml(f"<x:row>{cells}</x:row><x:row>{person}</x:row>", prefix="x", ns=strict)
    data = raw_xlsx([RawSheet("参保名单", [])])
    roster = _read_bytes(_with_member(data, "xl/worksheets/sheet1.xml", body))
    assert [r.row for r in roster.rows] == [2] and codes(roster) == []


@pytest.mark.parametrize(
    ("styles", "pr", "serial"),
    [
        # A custom format, Chinese Excel's built-in 31 (yyyy"年"m"月"d"日"), the 1904 system.
        ('<numFmts><numFmt numFmtId="176" formatCode="yyyy/m/d;@"/></numFmts>', "", 32874),
        ("", "", 32874),
        ("", '<workbookPr date1904="1"/>', 32874 - 1462),
    ],
)
def test_date_formats_of_every_kind_become_dates(styles, pr, serial):
    fmt = "176" if "176" in styles else "31"
    sheet_styles = (
        f'<styleSheet xmlns="{MAIN_NS}">{styles}<cellXfs count="2"><xf numFmtId="0"/>'
        f'<xf numFmtId="{fmt}" applyNumberFormat="1"/></cellXfs></styleSheet>'
    ).encode()
    values = row_values("E12345678", doc_type="护照", sex="男")
    cells = "".join(xml_cell(f"{'ABCDEFGH'[c]}2", v) for c, v in enumerate(values) if v)
    cells += xml_cell("F2", serial, style=1)
    rows = [xml_row(1, TEMPLATE_HEADER), f'<row r="2">{cells}</row>'.encode()]
    data = raw_xlsx([RawSheet("参保名单", rows)], styles=[sheet_styles], workbook_pr=pr)
    roster = _read_bytes(data)
    assert roster.cells[1][5] == dt.datetime(1990, 1, 1)
    assert check(roster).people[0].birth_date == dt.date(1990, 1, 1)


def test_progress_expects_the_rows_the_dimension_record_names():
    rows = [xml_row(1, TEMPLATE_HEADER)]
    rows += [xml_row(r, row_values(n, seq=r - 1)) for r, n in enumerate(people(1000), start=2)]
    data = raw_xlsx([RawSheet("参保名单", rows, dimension="A1:H1001")])
    calls = []
    _read_bytes(data, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(500, 1000), (1000, 1000), (1000, 1000)]


def test_a_row_reference_going_backwards_is_taken_as_the_next_row():
    ids = people(2)
    rows = [xml_row(1, TEMPLATE_HEADER), xml_row(5, row_values(ids[0]))]
    rows.append(xml_row(3, row_values(ids[1], seq=2)).replace(b'r="3"', b'r="1"', 1))
    roster = _read_bytes(raw_xlsx([RawSheet("参保名单", rows)]))
    assert [r.row for r in roster.rows] == [5, 6]


def test_csv_wider_than_the_columns_read_says_so_and_semicolons_are_understood(tmp_path):
    [number] = people(1)
    header = [*TEMPLATE_HEADER, *(f"备注{i}" for i in range(70))]
    path = csv_file(tmp_path / "名单.csv", [[*row_values(number), *["x"] * 70]], header=header,
                    delimiter=";")  # fmt: skip
    roster = read(path)
    assert codes(roster) == [] and max(len(r) for r in roster.cells) == 64
    assert roster.notes == ("工作表“名单”第BL列以后的内容没有读取（名单只读前64列）。",)


def test_a_visible_sheet_is_read_even_when_a_hidden_one_is_first_and_named_as_the_template(
    tmp_path,
):
    ids = people(3)
    data = raw_xlsx(
        [roster_sheet("参保名单", ids[:1], state="hidden"), roster_sheet("Sheet1", ids[1:])]
    )
    roster = _read_bytes(data)
    assert roster.sheet == "Sheet1" and [r.row for r in roster.rows] == [2, 3]
    assert roster.ignored_sheets == ("参保名单",)


def test_a_roster_header_with_no_one_under_it_and_the_people_on_a_hidden_sheet():
    data = raw_xlsx(
        [roster_sheet("参保名单", []), roster_sheet("旧名单", people(1), state="veryHidden")]
    )
    finding = read_roster_bytes(data, "名单.xlsx", policy=POLICY)
    assert isinstance(finding, FileFinding) and finding.code == "hidden_sheet"
    assert "“旧名单”" in finding.message


@pytest.mark.parametrize("path", ["/dev/zero", "/tmp"])
def test_a_device_or_folder_is_refused_without_reading_it(path):
    finding = refused(path)
    assert "不是一个文件" in finding.message
