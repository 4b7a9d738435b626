"""The ``hubao`` command line: the parser, the quote, ask and chat commands, and ``main``,
the one place a command's expected error (``HubaoError``) becomes its Chinese line on
stderr and its exit status, and anything unexpected a short message (never a traceback).
The faq, roster and telegram commands live in their own modules; what every command
shares is in ``bot.cli_io``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bot.bootstrap import App, install_operator_years, open_app
from bot.cli_faq import add_faq_commands
from bot.cli_io import (
    EXIT_USAGE,
    ChineseParser,
    CliError,
    date_arg,
    output_closed,
    print_error,
    print_json,
    robust_stdio,
    to_null,
    with_app,
)
from bot.logs import setup_logging
from bot.policy_cli import add_policy_commands
from bot.roster_cli import add_roster_commands
from bot.settings import Settings, debug_enabled, os_reason
from bot.telegram.cli import add_telegram_command
from bot.terminal import run_terminal, storage_unavailable
from bot.web.cli import add_web_command
from faq.answer import Answer
from flows.engine import Engine
from flows.quote_text import quote_json, render_quote
from flows.storage import ConversationKey
from rules.catalog import say
from rules.errors import HubaoError, InvalidInput, RulesError
from rules.people import Category
from rules.plans import parse_plan_codes
from rules.policy import (
    latest_policy_year,
    policy_in_force,
)
from rules.premium import SelectionRefused, quote_unit

__all__ = ["EXIT_USAGE", "CliError", "build_parser", "main", "run"]

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 128 + 13
"""The output was closed early (``hubao … | head``): what a shell reports for SIGPIPE."""


def cmd_quote(args: argparse.Namespace) -> int:
    try:
        plans = parse_plan_codes(" ".join(args.plans))
        start = date_arg(args.start) if args.start else latest_policy_year().coverage.start
        if args.people < 0 or args.non_zhibao < 0:
            raise CliError("bad_count", say("bot.cli.negative_count"))
        quote = quote_unit(
            plans, start, {Category.ZHIBAO: args.people, Category.NON_ZHIBAO: args.non_zhibao}
        )
    except SelectionRefused as exc:
        reasons = "\n".join(f"- {r.message}" for r in exc.refusals)
        raise CliError(exc.code, say("bot.cli.selection_refused", reasons=reasons)) from None
    except (RulesError, InvalidInput) as exc:
        raise CliError(exc.code, exc.message) from None
    if not quote.categories:
        raise CliError("nothing_to_quote", render_quote(quote))
    if args.json:
        print_json(quote_json(quote))
    else:
        print(render_quote(quote))
    return 0


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError("no_file", say("bot.terminal.not_found", path=path)) from None
    except UnicodeDecodeError:
        raise CliError("bad_encoding", say("bot.cli.bad_encoding", path=path)) from None
    except OSError as exc:
        raise CliError(
            "unreadable_file", say("bot.cli.unreadable_file", path=path, reason=os_reason(exc))
        ) from None


HOTLINE_KEY = ConversationKey("cli", "hotline", "hotline")


async def _ask_all(app: App, questions: list[str]) -> list[Answer]:
    """Answer through the storage port, so fallbacks are recorded for `faq misses`."""
    answers = []
    # The figures of the year in force on the clock's day (HUBAO_TODAY in tests).
    policy = policy_in_force(app.settings.clock())
    async with app.storage.turn(HOTLINE_KEY, None) as turn:
        now = dt.datetime.now(dt.UTC)
        for question in questions:
            # nobody replies to a choice
            answer = app.faq.ask(question, can_reply=False, policy=policy)
            turn.count(answer.status)
            if answer.status == "fallback":
                turn.miss(question, now)
            answers.append(answer)
    return answers


def cmd_ask(args: argparse.Namespace) -> int:
    if args.batch:
        questions = [q.strip() for q in _read_text(args.batch).splitlines() if q.strip()]
    elif args.question:
        questions = [" ".join(args.question)]
    else:
        raise CliError("no_question", say("bot.cli.no_question"))
    answers = with_app(args, lambda app: _ask_all(app, questions))
    if args.batch:
        for question, answer in zip(questions, answers, strict=True):
            print_json({"q": question, **answer.as_json()})
    elif args.json:
        print_json(answers[0].as_json())
    else:
        print(answers[0].text)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.db:
        settings = replace(settings, db_url=args.db)
    settings.secret()  # a key file that cannot be used stops the chat before it starts
    key = ConversationKey("terminal", args.user, args.user)
    out_dir = Path(args.out).expanduser() if args.out else settings.data_dir / "files"

    async def talk() -> None:
        # Opened by the chat, and again on a later message if the database is down.
        apps: list[App] = []

        async def engine() -> Engine:
            if not apps:
                apps.append(await open_app(settings))
            return apps[0].engine

        try:
            await run_terminal(engine, key, sys.stdin, sys.stdout, out_dir)
        finally:
            if apps:
                with contextlib.suppress(Exception):  # a database gone away: nothing to save
                    await apps[0].storage.close()

    asyncio.run(talk())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseParser(prog="hubao", description=say("bot.help.hubao"))
    sub = parser.add_subparsers(dest="command", required=True)

    q = sub.add_parser("quote", help=say("bot.help.quote"))
    q.add_argument("--plans", nargs="+", required=True, help=say("bot.help.quote_plans"))
    q.add_argument("--start", help=say("bot.help.quote_start"))
    q.add_argument("--people", type=int, default=1, help=say("bot.help.quote_people"))
    q.add_argument("--non-zhibao", type=int, default=0, help=say("bot.help.quote_non_zhibao"))
    q.add_argument("--json", action="store_true", help=say("bot.help.json"))
    q.set_defaults(handler=cmd_quote)

    c = sub.add_parser("chat", help=say("bot.help.chat"))
    c.add_argument("--user", default="local", help=say("bot.help.chat_user"))
    c.add_argument("--db", help=say("bot.help.chat_db"))
    c.add_argument("--out", help=say("bot.help.chat_out"))
    c.set_defaults(handler=cmd_chat)
    add_telegram_command(sub)
    add_web_command(sub)

    a = sub.add_parser("ask", help=say("bot.help.ask"))
    a.add_argument("--db", help=say("bot.help.db"))
    a.add_argument("question", nargs="*", help=say("bot.help.ask_question"))
    a.add_argument("--batch", metavar="FILE", help=say("bot.help.ask_batch"))
    a.add_argument("--json", action="store_true", help=say("bot.help.json"))
    a.set_defaults(handler=cmd_ask)

    add_faq_commands(sub)
    add_roster_commands(sub)
    add_policy_commands(sub)
    return parser


def _unexpected(exc: Exception) -> tuple[str, str]:
    """Code and Chinese message for an error no command expected. Nothing of the error's
    own text is shown: it may quote a cell of the user's file (an ID number)."""
    from sqlalchemy.exc import DBAPIError

    # Any OSError counts as "unavailable" inside a chat turn; here only a connection does.
    database = isinstance(exc, DBAPIError | ConnectionError | TimeoutError)
    if database or (storage_unavailable(exc) and not isinstance(exc, OSError)):
        return "db_unavailable", say("bot.cli.db_unavailable")
    if isinstance(exc, OSError):
        return "os_error", say("bot.cli.os_error", reason=os_reason(exc))
    return "internal_error", say("bot.cli.internal_error", error=type(exc).__name__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command: its exit status (README, "Commands for the hotline team")."""
    robust_stdio()
    setup_logging(logging.WARNING)  # every command's log lines and tracebacks masked
    try:
        try:
            status = _main(argv)
        finally:  # what is still buffered goes now (--help too): a closed pipe is seen here
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (`| head`): a quiet stop, as `cat` does.
        if not output_closed():  # not seen as closed (no poll()): stdout it is
            to_null(sys.stdout, only_if_closed=False)
        return EXIT_OUTPUT_CLOSED
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    as_json = bool(getattr(args, "json", False))
    try:
        if getattr(args, "operator_years", True):  # `hubao policy` reads them itself
            install_operator_years(Settings.from_env())
        return handler(args)
    except HubaoError as exc:
        if as_json and isinstance(exc, CliError):
            print_json({"error": {"code": exc.code, "message": exc.message}})
        print_error(exc.message)
        return exc.exit_status
    except KeyboardInterrupt:
        print_error("\n" + say("bot.cli.interrupted"))
        return EXIT_INTERRUPTED
    except Exception as exc:
        # The command boundary: no traceback for the user, whatever went wrong below.
        if isinstance(exc, BrokenPipeError) and output_closed():
            raise
        if debug_enabled():
            raise
        code, message = _unexpected(exc)
        if as_json:
            print_json({"error": {"code": code, "message": message}})
        print_error(message)
        return EXIT_FAILED


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
