"""``hubao policy ...``: the program staff's commands for a new policy year: ``new`` (a
draft rolled forward from an earlier year), ``check``, ``publish``, ``show``, ``diff`` and
``list``. The years live in the operator folder (HUBAO_POLICY_DIR, ``bot.policy_files``);
the rules decide what a year may hold (``rules.policy_check``, ``rules.policy_roll``,
``rules.policy_table``), this module only reads, writes and prints.

These commands read the operator folder leniently: a broken file is said, but does not
stop the command that is there to find and fix it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from bot.cli_io import CliError, print_error
from bot.console import display_width, visible
from bot.policy_files import (
    PolicyFileError,
    check_sentences,
    comment,
    dump_yaml,
    parse_data,
    publication,
    publish_sentences,
    read_text,
    scan_operator_years,
    set_top_level,
    validate,
    write_atomically,
    year_path,
)
from bot.settings import Settings
from rules.catalog import say
from rules.errors import NoPolicyData
from rules.policy import PolicyYear, install_years, known_years, policy_for_coverage_date
from rules.sentence import Sentence

_YEAR = re.compile(r"\d{4}")


# --- the operator folder, as these commands see it -------------------------------------------


class _Folder:
    """The operator folder read leniently, its good years installed for this command."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.policy_dir
        self.years, self.problems = scan_operator_years(self.path)
        install_years(y.policy for y in self.years)
        for problem in self.problems:
            print_error(problem.message)

    def source(self, policy: PolicyYear) -> str:
        for year in self.years:
            if year.policy is policy:
                return str(year.path)
        return say("bot.policy.source.packaged")

    def year(self, number: int) -> PolicyYear:
        """Year ``number``: the operator folder's file when there is one (a draft too: it is
        what is being prepared), else the packaged year."""
        for problem in self.problems:
            if problem.path == year_path(self.path, number):
                raise problem
        mine = [y.policy for y in self.years if y.policy.year == number]
        found = mine or [y for y in known_years() if y.year == number]
        if not found:
            raise CliError(
                "no_such_year", say("bot.policy.no_such_year", year=number, known=_known())
            )
        return found[0]


def _known() -> str:
    return "、".join(sorted({str(y.year) for y in known_years(include_drafts=True)}))


def _status(policy: PolicyYear) -> str:
    return say(f"bot.policy.status.{policy.status}")


def _target(arg: str, settings: Settings) -> Path:
    """FILE_OR_YEAR: "2024" is the operator folder's 2024.yaml, anything else a path."""
    if _YEAR.fullmatch(arg.strip()):
        return year_path(settings.policy_dir, int(arg))
    return Path(arg).expanduser()


def _packaged_text(year: int) -> str | None:
    item = resources.files("rules").joinpath("data", "years", f"{year}.yaml")
    return item.read_text(encoding="utf-8") if item.is_file() else None


# --- tables ----------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[str]], head: Sequence[str] | None = None) -> str:
    """Rows aligned in columns (two spaces apart), a rule under the heading."""
    lines = [list(head)] if head else []
    lines += [[" ".join(str(cell).split()) for cell in row] for row in rows]
    if not lines:
        return ""
    widths = [max(display_width(line[i]) for line in lines) for i in range(len(lines[0]))]

    def shown(line: list[str]) -> str:
        cells = [c + " " * (w - display_width(c)) for c, w in zip(line, widths, strict=True)]
        return "  ".join(cells).rstrip()

    out = [shown(line) for line in lines]
    if head:
        out.insert(1, "  ".join("-" * w for w in widths))
    return visible("\n".join(out))


def _numbered(sentences: Sequence[Sentence | str], start: int = 1) -> str:
    return "\n".join(f"{n}. {s}" for n, s in enumerate(sentences, start))


# --- the commands ----------------------------------------------------------------------------


def cmd_new(args: argparse.Namespace) -> int:
    from rules.policy_roll import roll_forward

    settings = Settings.from_env()
    folder = _Folder(settings)
    year: int = args.year
    source = folder.year(args.source if args.source is not None else year - 1)
    if year <= source.year:
        raise CliError("not_later", say("bot.policy.new_not_later", year=year, source=source.year))
    path = year_path(settings.policy_dir, year)
    if path.exists() and not args.force:
        raise CliError("exists", say("bot.policy.new_exists", path=path, year=year))
    data: dict[str, Any] = roll_forward(source, year)
    header = comment(say("bot.policy.draft_header", year=year, source=source.year))
    text = header + dump_yaml(data)
    validate(path, parse_data(path, text))  # what is written reads back as a year
    write_atomically(path, text)
    review = len(data.get("review") or ())
    print(say("bot.policy.new_written", path=path, year=year, source=source.year, review=review))
    return 0


def _findings(data: dict[str, Any], path: Path) -> tuple[list[str], list[str]]:
    """The check's errors and warnings (a warning, such as working days estimated past the
    calendar's data, never stops publishing)."""
    from rules.policy_check import calendar_warnings

    errors = [s.text for s in check_sentences(data)]
    warnings = [s.text for s in calendar_warnings(data)]
    if not errors:
        try:
            validate(path, data)
        except PolicyFileError as exc:  # the model refuses what the check let through
            errors.append(exc.problem.strip())
    return errors, warnings


def _read_for_check(arg: str, settings: Settings) -> tuple[Path, str]:
    path = _target(arg, settings)
    if _YEAR.fullmatch(arg.strip()) and not path.exists():
        packaged = _packaged_text(int(arg))
        if packaged is not None:
            return Path(say("bot.policy.source.packaged_file", year=arg)), packaged
    return path, read_text(path)


def cmd_check(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    path, text = _read_for_check(args.target, settings)
    data = parse_data(path, text)
    errors, warnings = _findings(data, path)
    print(visible(say("bot.policy.check_head", path=path)))
    if errors:
        print(visible(say("bot.policy.errors_head", count=len(errors))))
        print(visible(_numbered(errors)))
    if warnings:
        print(visible(say("bot.policy.warnings_head", count=len(warnings))))
        print(visible(_numbered(warnings, len(errors) + 1)))
    if errors:
        raise CliError("check_failed", say("bot.policy.check_failed", count=len(errors)))
    review = data.get("review") or ()
    draft = data.get("status") == "draft"
    print(say("bot.policy.check_passed", draft=draft, review=len(review)))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    by = " ".join(str(args.by).split())
    if not by:
        raise CliError("no_publisher", say("bot.policy.no_publisher"))
    source = _target(args.target, settings)
    text = read_text(source)
    data = parse_data(source, text)
    problems = [s.text for s in publish_sentences(data)]
    if not problems:
        validate(source, data)
    if problems:
        print(visible(say("bot.policy.publish_refused_head", path=source)))
        print(visible(_numbered(problems)))
        raise CliError("publish_refused", say("bot.policy.publish_refused", count=len(problems)))
    now = dt.datetime.now(dt.UTC)
    published = set_top_level(text, publication(by, now))
    policy = validate(source, parse_data(source, published))
    target = year_path(settings.policy_dir, policy.year)
    write_atomically(target, published)
    print(
        visible(
            say(
                "bot.policy.published",
                year=policy.year,
                path=target,
                by=by,
                at=now.strftime("%Y-%m-%d %H:%M UTC"),
            )
        )
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from rules.policy_table import year_rows

    settings = Settings.from_env()
    folder = _Folder(settings)
    if args.year is None:
        try:
            policy = policy_for_coverage_date(settings.clock())
        except NoPolicyData as exc:
            raise CliError(
                exc.code, say("bot.policy.show_no_year", reason=exc.message, known=_known())
            ) from None
    else:
        policy = folder.year(args.year)
    print(
        visible(
            say(
                "bot.policy.show_head",
                year=policy.year,
                status=_status(policy),
                draft=policy.status == "draft",
                source=folder.source(policy),
            )
        )
    )
    print(table(year_rows(policy), (say("bot.policy.col.item"), say("bot.policy.col.value"))))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from rules.policy_table import diff_rows

    folder = _Folder(Settings.from_env())
    old, new = folder.year(args.old), folder.year(args.new)
    rows = diff_rows(old, new)
    if not rows:
        print(say("bot.policy.no_differences", old=old.year, new=new.year))
        return 0
    head = (say("bot.policy.col.item"), str(old.year), str(new.year))
    print(say("bot.policy.diff_head", old=old.year, new=new.year, count=len(rows)))
    print(table(rows, head))
    return 0


def _list_row(policy: PolicyYear, folder: _Folder) -> list[str]:
    if policy.status == "draft":
        note = say("bot.policy.list_review", review=len(policy.review))
    elif policy.published_by:
        at = policy.published_at.strftime("%Y-%m-%d") if policy.published_at else ""
        note = say("bot.policy.list_published", by=policy.published_by, at=at)
    else:
        note = ""
    coverage = f"{policy.coverage.start.isoformat()} ~ {policy.coverage.end.isoformat()}"
    return [str(policy.year), _status(policy), coverage, folder.source(policy), note]


def cmd_list(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    folder = _Folder(settings)
    rows = [_list_row(y, folder) for y in known_years(include_drafts=True)]
    head = [say(f"bot.policy.col.{c}") for c in ("year", "status", "coverage", "source", "note")]
    print(table(rows, head))
    print(visible(say("bot.policy.list_folder", path=settings.policy_dir)))
    if folder.problems:
        raise CliError("broken_files", say("bot.policy.list_broken", count=len(folder.problems)))
    return 0


# --- registration ----------------------------------------------------------------------------


def add_policy_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``hubao policy new|check|publish|show|diff|list``."""
    policy = sub.add_parser("policy", help=say("bot.policy.help.policy"))
    # These commands read the operator folder themselves, leniently (see the module).
    policy.set_defaults(operator_years=False)
    commands = policy.add_subparsers(dest="policy_command", required=True)

    n = commands.add_parser("new", help=say("bot.policy.help.new"))
    n.add_argument("year", type=int, metavar="YEAR", help=say("bot.policy.help.new_year"))
    n.add_argument(
        "--from", dest="source", type=int, metavar="YEAR", help=say("bot.policy.help.from")
    )
    n.add_argument("--force", action="store_true", help=say("bot.policy.help.force"))
    n.set_defaults(handler=cmd_new)

    c = commands.add_parser("check", help=say("bot.policy.help.check"))
    c.add_argument("target", metavar="FILE_OR_YEAR", help=say("bot.policy.help.target"))
    c.set_defaults(handler=cmd_check)

    p = commands.add_parser("publish", help=say("bot.policy.help.publish"))
    p.add_argument("target", metavar="FILE_OR_YEAR", help=say("bot.policy.help.target"))
    p.add_argument("--by", required=True, metavar="NAME", help=say("bot.policy.help.by"))
    p.set_defaults(handler=cmd_publish)

    s = commands.add_parser("show", help=say("bot.policy.help.show"))
    s.add_argument("year", type=int, nargs="?", metavar="YEAR", help=say("bot.policy.help.year"))
    s.set_defaults(handler=cmd_show)

    d = commands.add_parser("diff", help=say("bot.policy.help.diff"))
    d.add_argument("old", type=int, metavar="OLD", help=say("bot.policy.help.old"))
    d.add_argument("new", type=int, metavar="NEW", help=say("bot.policy.help.new_year"))
    d.set_defaults(handler=cmd_diff)

    ls = commands.add_parser("list", help=say("bot.policy.help.list"))
    ls.set_defaults(handler=cmd_list)
