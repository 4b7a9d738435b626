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

from bot.cli_io import EXIT_USAGE, CliError, print_json
from bot.console import BadDate, megabytes, parse_date, visible
from bot.files import FileRefused, read_regular_file, write_private_file
from bot.settings import Settings, unknown_reason
from rules.catalog import say
from rules.dates import Mode, coverage_period, mode_on
from rules.errors import NoPolicyData, RulesError
from rules.fmt import cn_date
from rules.policy import PolicyYear, latest_policy_year, policy_for_coverage_date
from rules.privacy import mask_personal_data
from rules.roster import (
    RosterCheck,
    UnitCheck,
    check_rows,
    check_unit,
)

if TYPE_CHECKING:
    from sheets.roster_file import FileFinding, RosterFile

EXIT_OK = 0
FIRST_FINDINGS = 20


def _refuse(code: str, message: str) -> NoReturn:
    raise CliError(code, message)


def _text(key: str, **values: Any) -> str:
    return say(f"bot.roster.{key}", **values)


def _say(text: str, *, err: bool = False) -> None:
    """Every line shown goes through the mask (no full ID or phone number on a terminal)
    and is made safe to print (no control character reaches the terminal)."""
    print(visible(mask_personal_data(text)), file=sys.stderr if err else sys.stdout)


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
        # The size refusal is the reader's own sentence: one wording for both ways in.
        key = "sheets.file.too_large" if reason == "too_large" else f"bot.roster.file.{reason}"
        message = say(
            key,
            name=name,
            size=megabytes(refused.size or 0),
            cap=megabytes(MAX_FILE_BYTES),
            reason=refused.detail or unknown_reason(),
        )
        code = "too_large" if refused.reason == "too_large" else "unreadable_file"
        return FileFinding(code, message)
    return read_roster_bytes(data, name, **options)


def _count(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    value = text.strip()
    if not value.isdigit():
        _refuse("bad_count", _text("bad_count", option=option))
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
        note = _text(
            "as_of.closed",
            today=cn_date(today),
            year=policy.year,
            start=cn_date(start),
            other_day=_text("other_day"),
        )
        return policy, AsOf(start, "closed", note)
    if mode is Mode.CENTRALIZED:
        note = _text(
            "as_of.centralized",
            today=cn_date(today),
            start=cn_date(start),
            other_day=_text("other_day"),
        )
    else:
        note = _text("as_of.instant", today=cn_date(today), other_day=_text("other_day"))
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
        _refuse("same_file", _text("same_file", option=option))
    return out


def _save_failed(path: Path) -> NoReturn:
    _refuse("cannot_write", _text("cannot_write", path=path))


def _progress(done: int, total: int | None) -> None:
    shown = f"{done}/{total}" if total else str(done)
    print("\r" + _text("progress", shown=shown), end="", file=sys.stderr, flush=True)


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
    _say(_text("template_written", path=out))
    return EXIT_OK


def cmd_roster_check(args: argparse.Namespace) -> int:
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
        _refuse("check_failed", _text("check_failed", name=source.name))


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
            print_json(_result_json(roster, None, None, options.as_of))
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
        written.append(_text("report_written", path=report))
    if clean is not None:
        try:
            with write_private_file(clean) as out:
                count = write_clean(out, check, policy=policy)
        except OSError:
            _save_failed(clean)
        written.append(_text("clean_written", path=clean, count=count))

    if args.json:
        print_json(_result_json(None, check, unit, options.as_of))
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
        _say(_text("first_findings", count=min(FIRST_FINDINGS, len(check.findings))))
        for finding in check.findings[:FIRST_FINDINGS]:
            said = _text(
                "finding",
                row=finding.row,
                column=finding.column,
                level=say(f"sheets.report.level.{finding.severity.value}"),
                message=finding.message,
            )
            _say(f"  {said}")
        rest = len(check.findings) - FIRST_FINDINGS
        if rest > 0:
            hint = _text("see_report" if report is not None else "make_report")
            _say("  " + _text("more_findings", rest=rest, hint=hint))
    for line in written:
        _say(line)
    return EXIT_OK


def add_roster_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``hubao roster template`` and ``hubao roster check``."""
    roster = sub.add_parser("roster", help=say("bot.help.roster"))
    commands = roster.add_subparsers(dest="roster_command", required=True)

    t = commands.add_parser("template", help=say("bot.help.roster_template"))
    t.add_argument("out", metavar="OUT.xlsx", help=say("bot.help.roster_template_out"))
    t.set_defaults(handler=cmd_roster_template)

    c = commands.add_parser("check", help=say("bot.help.roster_check"))
    c.add_argument("file", metavar="FILE", help=say("bot.help.roster_file"))
    c.add_argument("--json", action="store_true", help=say("bot.help.json"))
    c.add_argument("--as-of", metavar="DATE", help=say("bot.help.roster_as_of"))
    c.add_argument("--last-year", metavar="N", help=say("bot.help.roster_last_year"))
    c.add_argument("--si-payers", metavar="N", help=say("bot.help.roster_si_payers"))
    c.add_argument("--new-unit", action="store_true", help=say("bot.help.roster_new_unit"))
    c.add_argument("--report", metavar="OUT.xlsx", help=say("bot.help.roster_report"))
    c.add_argument("--clean", metavar="OUT.xlsx", help=say("bot.help.roster_clean"))
    c.set_defaults(handler=cmd_roster_check)
