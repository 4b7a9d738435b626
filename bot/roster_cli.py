"""``hubao roster``: the import template, and the check of a unit's roster file.

    hubao roster template OUT.xlsx
    hubao roster check FILE [--json] [--as-of DATE] [--last-year N] [--si-payers N]
                            [--new-unit] [--report OUT.xlsx] [--clean OUT.xlsx]

``check`` exits 0 once the file has been checked, whatever it found in the rows; it exits
2 with a Chinese message when the file cannot be checked or an argument is wrong. Output
shows ID and phone numbers masked; only the report workbook, the unit's own file
annotated, keeps them in full. What is printed is shown with control characters escaped
(a cell cannot retitle or recolour the terminal); only regular files are read, never more
than the size cap; an unexpected failure is a short Chinese message, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.settings import Settings
from bot.terminal import (
    BadDate,
    FileRefused,
    json_text,
    parse_date,
    read_regular_file,
    visible,
    write_private_file,
)
from rules.dates import Mode, coverage_period, mode_on
from rules.errors import NoPolicyData, RulesError
from rules.fmt import cn_date
from rules.policy import PolicyYear, latest_policy_year, policy_for_coverage_date
from rules.privacy import mask_personal_data
from rules.roster import (
    RosterCheck,
    Severity,
    UnitCheck,
    check_rows,
    check_unit,
)

if TYPE_CHECKING:
    from sheets.roster_file import FileFinding, RosterFile

EXIT_OK = 0
EXIT_USAGE = 2
FIRST_FINDINGS = 20


def _refuse(code: str, message: str) -> NoReturn:
    # Imported here: bot.cli imports this module to register the commands.
    from bot.cli import CliError

    raise CliError(code, message)


FILE_TEXTS = {
    "not_found": "找不到文件“{name}”，请检查路径和文件名。",
    "folder": "“{name}”是一个文件夹，请写出里面名单文件的路径。",
    "not_regular": "“{name}”不是普通文件（可能是设备或管道），请给出 .xlsx 或 .csv 名单文件。",
    "too_large": "文件“{name}”太大（{size}），超过了{cap}的上限，不像一份参保名单。"
    "请只保留名单所在的工作表，删掉图片等内容后再检查。",
    "too_large_unknown": "文件“{name}”超过了{cap}的上限，不像一份参保名单。"
    "请只保留名单所在的工作表，删掉图片等内容后再检查。",
    "no_permission": "没有权限读取文件“{name}”，请检查文件权限。",
    "unreadable": "读不了文件“{name}”（{reason}），请检查文件是否完好。",
    "check_failed": "名单“{name}”没能检查完：文件里可能有特殊字符，或者格式损坏。"
    "请在 Excel 里打开，“另存为”新的 Excel 工作簿（.xlsx）后再检查。",
}


def _say(text: str, *, err: bool = False) -> None:
    """Every line shown goes through the mask (no full ID or phone number on a terminal)
    and is made safe to print (no control character reaches the terminal)."""
    print(visible(mask_personal_data(text)), file=sys.stderr if err else sys.stdout)


def _print_json(obj: dict[str, Any]) -> None:
    print(json_text(obj))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _read_source(source: Path, **options: Any) -> RosterFile | FileFinding:
    """The roster at ``source``: only a regular file, and never more than the size cap."""
    from sheets.roster_file import MAX_FILE_BYTES, FileFinding, read_roster_bytes

    name = source.name or str(source)
    try:
        data = read_regular_file(source, MAX_FILE_BYTES)
    except FileRefused as refused:
        reason = refused.reason
        if reason == "too_large" and refused.size is None:
            reason = "too_large_unknown"  # it grew past the cap while being read
        message = FILE_TEXTS[reason].format(
            name=name,
            size=_mb(refused.size or 0),
            cap=_mb(MAX_FILE_BYTES),
            reason=refused.detail or "未知原因",
        )
        code = "too_large" if refused.reason == "too_large" else "unreadable_file"
        return FileFinding(code, message)
    return read_roster_bytes(data, name, **options)


def _count(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not value.isdigit():
        _refuse("bad_count", f"{option} 要填人数（0或正整数），例如 {option} 120。")
    return int(value)


@dataclass(frozen=True)
class AsOf:
    """The coverage start ages are computed on, and why that day."""

    day: dt.date
    basis: str
    """given (--as-of), centralized or instant (today's enrollment mode), closed (today is
    in no enrollment period: the newest policy year's start)."""
    note: str
    """Which day and why, for the output; empty when --as-of gave it."""

    def as_json(self) -> dict[str, str]:
        return {"date": self.day.isoformat(), "basis": self.basis, "message": self.note}


_OTHER_DAY = "按其他起保日检查请加 --as-of 日期。"


def _default_start() -> tuple[PolicyYear, AsOf]:
    """The start a roster submitted today gets, as the chat computes it: the year's start in
    the centralized window, the day after submission in instant enrollment."""
    today = Settings.from_env().clock()
    try:
        policy, mode = mode_on(today)
        start = coverage_period(today).start
    except NoPolicyData:
        policy = latest_policy_year()
        start = policy.coverage.start
        note = (
            f"今天（{cn_date(today)}）不在参保办理时间内，起保日按{policy.year}年度的"
            f"{cn_date(start)}计算；{_OTHER_DAY}"
        )
        return policy, AsOf(start, "closed", note)
    if mode is Mode.CENTRALIZED:
        note = (
            f"起保日按集中参保计算：今天（{cn_date(today)}）提交，{cn_date(start)}起保；"
            f"{_OTHER_DAY}"
        )
    else:
        note = f"起保日按今天（{cn_date(today)}）提交、明天起保计算（即时参保）；{_OTHER_DAY}"
    return policy, AsOf(start, mode.value, note)


def _policy_and_start(text: str | None) -> tuple[PolicyYear, AsOf]:
    if text is None:
        return _default_start()
    try:
        start = parse_date(text)
    except BadDate as exc:
        _refuse("bad_date", exc.message)
    try:
        return policy_for_coverage_date(start), AsOf(start, "given", "")
    except RulesError as exc:
        _refuse(exc.code, exc.message)


def _output_path(text: str | None, source: Path, option: str) -> Path | None:
    if text is None:
        return None
    out = Path(text)
    if out.resolve() == source.resolve():
        _refuse("same_file", f"{option} 不能写回原文件，请换一个文件名，例如 检查结果.xlsx。")
    return out


def _save_failed(path: Path) -> NoReturn:
    _refuse(
        "cannot_write",
        f"无法保存到“{path}”：请检查文件夹是否存在，以及这个文件是否正被 Excel 打开。",
    )


def _progress(done: int, total: int | None) -> None:
    shown = f"{done}/{total}" if total else str(done)
    print(f"\r已读取 {shown} 行……", end="", file=sys.stderr, flush=True)


def _result_json(
    file_error: FileFinding | None,
    check: RosterCheck | None,
    unit: UnitCheck | None,
    as_of: AsOf,
) -> dict[str, Any]:
    return {
        "file_error": None if file_error is None else file_error.as_json(),
        "as_of": as_of.as_json(),
        "rows": 0 if check is None else check.rows,
        "errors": [] if check is None else [f.as_json() for f in check.errors],
        "warnings": [] if check is None else [f.as_json() for f in check.warnings],
        "people": None if check is None else check.people_json(),
        "unit_checks": None if unit is None else unit.as_json(),
    }


def cmd_roster_template(args: argparse.Namespace) -> int:
    from sheets.roster_write import write_template  # openpyxl: only for roster commands

    out = Path(args.out)
    try:
        write_template(out, policy=latest_policy_year())
    except OSError:
        _save_failed(out)
    _say(f"已生成参保名单导入模板：{out}（填写说明见工作表“填写说明”）")
    return EXIT_OK


def cmd_roster_check(args: argparse.Namespace) -> int:
    from bot.cli import CliError

    source = Path(args.file)
    options = _CheckOptions(
        *_policy_and_start(args.as_of),
        last_year=_count(args.last_year, "--last-year"),
        si_payers=_count(args.si_payers, "--si-payers"),
        report=_output_path(args.report, source, "--report"),
        clean=_output_path(args.clean, source, "--clean"),
    )
    created = [p for p in (options.report, options.clean) if p is not None and not p.exists()]
    try:
        return _check(args, source, options)
    except BrokenPipeError:
        raise  # the output closed (`| head`) once the files were written: they stay
    except Exception as exc:
        # No half-written output file left behind, whatever stopped the check.
        for path in created:
            path.unlink(missing_ok=True)
        if isinstance(exc, CliError):
            raise
        # A file that breaks the reader or the writer: a short message, no traceback (its
        # text could quote a cell of the file, an ID number).
        _refuse("check_failed", FILE_TEXTS["check_failed"].format(name=source.name))


@dataclass(frozen=True)
class _CheckOptions:
    policy: PolicyYear
    as_of: AsOf
    last_year: int | None
    si_payers: int | None
    report: Path | None
    clean: Path | None


def _check(args: argparse.Namespace, source: Path, options: _CheckOptions) -> int:
    from sheets.roster_file import FileFinding
    from sheets.roster_write import summary_lines, write_clean, write_report

    policy, start = options.policy, options.as_of.day
    last_year, si_payers = options.last_year, options.si_payers
    report, clean = options.report, options.clean
    show_progress = not args.json and sys.stderr.isatty()
    roster = _read_source(source, policy=policy, progress=_progress if show_progress else None)
    if show_progress:
        print(file=sys.stderr)
    if isinstance(roster, FileFinding):
        if args.json:
            _print_json(_result_json(roster, None, None, options.as_of))
        _say(roster.message, err=True)
        return EXIT_USAGE

    check = check_rows(roster.rows, policy=policy, start=start, headers=roster.headers)
    unit = check_unit(
        len(check.people),
        policy=policy,
        last_year=last_year,
        si_payers=si_payers,
        new_unit=args.new_unit,
    )
    unit_asked = last_year is not None or si_payers is not None or args.new_unit
    written: list[str] = []
    if report is not None:
        try:
            with write_private_file(report) as out:
                write_report(out, roster, check, unit if unit_asked else None, as_of=start)
        except OSError:
            _save_failed(report)
        written.append(f"已生成标注文件：{report}（有问题的格子已标色，见“问题说明”列）")
    if clean is not None:
        try:
            with write_private_file(clean) as out:
                count = write_clean(out, check, policy=policy)
        except OSError:
            _save_failed(clean)
        written.append(f"已生成可导入的名单：{clean}（{count}人，有错误的行已去掉）")

    if args.json:
        _print_json(_result_json(None, check, unit, options.as_of))
        for line in written:
            _say(line, err=True)
        return EXIT_OK
    note = options.as_of.note
    for line in summary_lines(roster, check, unit if unit_asked else None, as_of=start):
        _say(line)
        if note and "年龄按" in line:  # which start, and why, right after the age line
            _say(note)
            note = ""
    if note:
        _say(note)
    if check.findings:
        _say(f"前{min(FIRST_FINDINGS, len(check.findings))}条问题（按行）：")
        for finding in check.findings[:FIRST_FINDINGS]:
            level = "错误" if finding.severity is Severity.ERROR else "提醒"
            _say(f"  第{finding.row}行 {finding.column}［{level}］：{finding.message}")
        rest = len(check.findings) - FIRST_FINDINGS
        if rest > 0:
            hint = "见标注文件" if report is not None else "用 --report 结果.xlsx 生成标注文件查看"
            _say(f"  ……还有{rest}条，{hint}。")
    for line in written:
        _say(line)
    return EXIT_OK


def add_roster_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``hubao roster template`` and ``hubao roster check``."""
    roster = sub.add_parser("roster", help="参保名单：导入模板、检查名单")
    commands = roster.add_subparsers(dest="roster_command", required=True)

    t = commands.add_parser("template", help="生成参保名单导入模板（.xlsx）")
    t.add_argument("out", metavar="OUT.xlsx", help="模板保存到哪个文件")
    t.set_defaults(handler=cmd_roster_template)

    c = commands.add_parser("check", help="按平台规则逐行检查参保名单")
    c.add_argument("file", metavar="FILE", help="参保名单文件（.xlsx 或 .csv）")
    c.add_argument("--json", action="store_true", help="输出 JSON")
    c.add_argument(
        "--as-of",
        metavar="DATE",
        help="起保日期，按这天算年龄（默认：按今天提交算，集中参保期内为年度起保日，之后为明天）",
    )
    c.add_argument("--last-year", metavar="N", help="上年度参保人数（做增减幅度校验）")
    c.add_argument("--si-payers", metavar="N", help="所关联社保编码的社保缴费人数合计")
    c.add_argument("--new-unit", action="store_true", help="新参保单位")
    c.add_argument("--report", metavar="OUT.xlsx", help="生成标注了问题的名单")
    c.add_argument("--clean", metavar="OUT.xlsx", help="生成只含正确行、可直接导入的名单")
    c.set_defaults(handler=cmd_roster_check)
