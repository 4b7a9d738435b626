"""The ``hubao`` command line. Every subcommand prints Chinese for people, JSON on request,
and exits 2 with a clear message (never a traceback) on input it cannot use."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from flows.quote_text import quote_json, render_quote
from rules.errors import InvalidInput, RulesError
from rules.people import Category
from rules.plans import parse_plan_codes
from rules.policy import latest_policy_year
from rules.premium import SelectionRefused, quote_unit

EXIT_USAGE = 2


class CliError(Exception):
    """A refusal to show the user: stable code and Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=None))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CliError("bad_date", f"日期“{text}”看不懂，请写成 2023-07-01 这样的格式。") from None


def cmd_quote(args: argparse.Namespace) -> int:
    try:
        plans = parse_plan_codes(" ".join(args.plans))
        start = _date(args.start) if args.start else latest_policy_year().coverage.start
        if args.people < 0 or args.non_zhibao < 0:
            raise CliError("bad_count", "人数不能是负数。")
        quote = quote_unit(
            plans, start, {Category.ZHIBAO: args.people, Category.NON_ZHIBAO: args.non_zhibao}
        )
    except SelectionRefused as exc:
        raise CliError(
            exc.code,
            "这个保障项目组合不符合规则：\n" + "\n".join(f"- {r.message}" for r in exc.refusals),
        ) from None
    except (RulesError, InvalidInput) as exc:
        raise CliError(exc.code, exc.message) from None
    if not quote.categories:
        raise CliError("nothing_to_quote", render_quote(quote))
    if args.json:
        _print_json(quote_json(quote))
    else:
        print(render_quote(quote))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubao", description="互保助手：上海职工互助保障参保咨询"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    q = sub.add_parser("quote", help="保费测算")
    q.add_argument("--plans", nargs="+", required=True, help="保障项目代码，如 A0,B0,C0,A1")
    q.add_argument("--start", help="起保日期 YYYY-MM-DD（默认：当前数据年度的集中参保起保日）")
    q.add_argument("--people", type=int, default=1, help="职保在职人数（默认 1）")
    q.add_argument("--non-zhibao", type=int, default=0, help="非职保且未超龄人数（默认 0）")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_quote)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except CliError as exc:
        if getattr(args, "json", False):
            _print_json({"error": {"code": exc.code, "message": exc.message}})
        print(exc.message, file=sys.stderr)
        return EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
