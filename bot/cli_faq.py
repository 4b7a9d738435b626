"""``hubao faq``: knowledge-base upkeep for the hotline team: measure answering accuracy on
an evaluation set (``eval``), check the entries (``lint``), export them (``export``), and
list the questions that got no answer, similar ones grouped (``misses``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.bootstrap import knowledge_base
from bot.cli_io import CliError, date_arg, with_app
from bot.console import visible
from bot.settings import os_reason
from faq.answer import FaqService
from faq.evaluate import Case, evaluate, read_cases
from faq.lint import lint
from faq.misses import group_misses
from rules.catalog import say


def cmd_faq_eval(args: argparse.Namespace) -> int:
    service = FaqService(knowledge_base())

    def cases_of(path: str) -> list[Case]:
        try:
            return read_cases(Path(path))
        except OSError as exc:
            raise CliError(
                "bad_eval_file", say("bot.cli.eval_unreadable", path=path, reason=os_reason(exc))
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError):  # not JSON lines, no "q"
            raise CliError("bad_eval_file", say("bot.cli.eval_malformed", path=path)) from None

    cases = cases_of(args.file)
    oos = cases_of(args.oos) if args.oos else []
    report = evaluate(service, cases, oos)
    if args.verbose:
        for case, answer in report.failures:
            print(f"MISS  {case.question}  -> {answer.status} {answer.entry} {answer.score:.3f}")
        for question, answer in report.oos_failures:
            print(f"OOS   {question}  -> {answer.entry} {answer.score:.3f}")
    print(f"top-1 accuracy: {report.correct}/{report.total} = {report.accuracy:.1%}")
    if args.oos:
        print(
            f"out-of-scope not answered: {report.oos_unanswered}/{report.oos_total}"
            f" = {report.oos_rate:.1%}"
        )
    return 0


def cmd_faq_lint(args: argparse.Namespace) -> int:
    kb = knowledge_base()
    problems = lint(kb)
    for p in problems:
        print(f"{p.entry}: {p.code}: {p.message}")
    business = sum(1 for _ in kb.business)
    print(f"{business} entries, {len(problems)} problems")
    return 1 if problems else 0


def cmd_faq_export(args: argparse.Namespace) -> int:
    from faq.export import export  # openpyxl: only for this command

    data = export(knowledge_base(), args.format, with_phrasings=args.with_phrasings)
    if args.output:
        Path(args.output).write_bytes(data)
        print(say("bot.cli.exported", path=args.output))
    elif args.format == "xlsx":
        raise CliError("need_output", say("bot.cli.need_output"))
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def cmd_faq_misses(args: argparse.Namespace) -> int:
    since = date_arg(args.since) if args.since else None
    groups = group_misses(with_app(args, lambda app: app.storage.misses(since)))
    if not groups:
        print(say("bot.cli.no_misses"))
    for g in groups:
        print(f"{g.count:>4}  {visible(g.question)}")
        for v in g.variants[1:]:
            print(f"      · {visible(v)}")
    return 0


def add_faq_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``hubao faq eval|export|lint|misses``."""
    f = sub.add_parser("faq", help=say("bot.help.faq"))
    commands = f.add_subparsers(dest="faq_command", required=True)
    e = commands.add_parser("eval", help=say("bot.help.faq_eval"))
    e.add_argument("file")
    e.add_argument("--oos", help=say("bot.help.faq_oos"))
    e.add_argument("-v", "--verbose", action="store_true", help=say("bot.help.faq_verbose"))
    e.set_defaults(handler=cmd_faq_eval)
    ex = commands.add_parser("export", help=say("bot.help.faq_export"))
    ex.add_argument("--format", choices=["md", "html", "xlsx"], default="html")
    ex.add_argument("-o", "--output")
    ex.add_argument(
        "--with-phrasings", action="store_true", help=say("bot.help.faq_with_phrasings")
    )
    ex.set_defaults(handler=cmd_faq_export)
    li = commands.add_parser("lint", help=say("bot.help.faq_lint"))
    li.set_defaults(handler=cmd_faq_lint)
    mi = commands.add_parser("misses", help=say("bot.help.faq_misses"))
    mi.add_argument("--since", help=say("bot.help.faq_since"))
    mi.add_argument("--db", help=say("bot.help.db"))
    mi.set_defaults(handler=cmd_faq_misses)
