"""The ``hubao`` command line. Every subcommand prints Chinese for people, JSON on request,
and exits 2 with a clear message (never a traceback) on input it cannot use."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import logging
import os
import re
import select
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from bot.bootstrap import App, open_app
from bot.logs import setup_logging
from bot.roster_cli import add_roster_commands
from bot.settings import Settings, SettingsError, os_reason
from bot.telegram_cli import add_telegram_command
from bot.terminal import (
    BadDate,
    json_text,
    parse_date,
    run_terminal,
    storage_unavailable,
    visible,
)
from faq.answer import Answer, FaqService
from faq.evaluate import Case, evaluate, read_cases
from faq.kb import KnowledgeBaseError, load_kb
from faq.lint import lint
from faq.misses import group_misses
from flows.engine import Engine
from flows.quote_text import quote_json, render_quote
from flows.storage import ConversationKey
from flows.storage_sql import StorageUrlError
from rules.errors import InvalidInput, RulesError
from rules.people import Category
from rules.plans import parse_plan_codes
from rules.policy import latest_policy_year
from rules.premium import SelectionRefused, quote_unit

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_OUTPUT_CLOSED = 128 + 13
"""The output was closed early (``hubao … | head``): what a shell reports for SIGPIPE."""


class CliError(Exception):
    """A refusal to show the user: stable code and Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _print_json(obj: Any) -> None:
    print(json_text(obj))


def _error(text: str) -> None:
    print(visible(text), file=sys.stderr)


def _date(text: str) -> dt.date:
    """A date argument; a day that does not exist (2023-02-30) is said to be so."""
    try:
        return parse_date(text)
    except BadDate as exc:
        raise CliError("bad_date", exc.message) from None


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


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError("no_file", f"找不到文件：{path}") from None
    except UnicodeDecodeError:
        raise CliError(
            "bad_encoding", f"{path} 不是 UTF-8 文本文件，请另存为 UTF-8 后再试。"
        ) from None
    except OSError as exc:
        raise CliError("unreadable_file", f"读不了 {path}：{os_reason(exc)}") from None


HOTLINE_KEY = ConversationKey("cli", "hotline", "hotline")


async def _ask_all(app: App, questions: list[str]) -> list[Answer]:
    """Answer through the storage port, so fallbacks are recorded for `faq misses`."""
    answers = []
    async with app.storage.turn(HOTLINE_KEY, None) as turn:
        now = dt.datetime.now(dt.UTC)
        for question in questions:
            answer = app.faq.ask(question, can_reply=False)  # nobody replies to a choice
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
        raise CliError("no_question", '请输入问题，例如：hubao ask "忘记密码怎么办"')
    answers = _with_app(args, lambda app: _ask_all(app, questions))
    if args.batch:
        for question, answer in zip(questions, answers, strict=True):
            _print_json({"q": question, **answer.as_json()})
    elif args.json:
        _print_json(answers[0].as_json())
    else:
        print(answers[0].text)
    return 0


T = TypeVar("T")


def _with_app(args: argparse.Namespace, work: Callable[[App], Awaitable[T]]) -> T:
    async def run() -> T:
        app = await open_app(db_url=getattr(args, "db", None))
        try:
            return await work(app)
        finally:
            await app.storage.close()

    return asyncio.run(run())


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


def cmd_faq_eval(args: argparse.Namespace) -> int:
    service = FaqService(load_kb())

    def cases_of(path: str) -> list[Case]:
        try:
            return read_cases(Path(path))
        except OSError as exc:
            raise CliError(
                "bad_eval_file", f"评测文件读不了：{path}（{os_reason(exc)}）"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError):  # not JSON lines, no "q"
            raise CliError(
                "bad_eval_file",
                f"评测文件 {path} 格式不对：每行应是一个 JSON 对象，"
                '如 {"q": "忘记密码怎么办", "expect": [["重置"]]}。',
            ) from None

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
    kb = load_kb()
    problems = lint(kb)
    for p in problems:
        print(f"{p.entry}: {p.code}: {p.message}")
    business = sum(1 for _ in kb.business)
    print(f"{business} entries, {len(problems)} problems")
    return 1 if problems else 0


def cmd_faq_export(args: argparse.Namespace) -> int:
    from faq.export import export  # openpyxl: only for this command

    data = export(load_kb(), args.format, with_phrasings=args.with_phrasings)
    if args.output:
        Path(args.output).write_bytes(data)
        print(f"已导出到 {args.output}")
    elif args.format == "xlsx":
        raise CliError("need_output", "Excel 格式请用 -o 指定输出文件，例如 -o 知识库.xlsx")
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def cmd_faq_misses(args: argparse.Namespace) -> int:
    since = _date(args.since) if args.since else None
    groups = group_misses(_with_app(args, lambda app: app.storage.misses(since)))
    if not groups:
        print("没有记录到未回答的问题。")
    for g in groups:
        print(f"{g.count:>4}  {visible(g.question)}")
        for v in g.variants[1:]:
            print(f"      · {visible(v)}")
    return 0


def _names(text: str) -> str:
    """argparse's "'a', 'b'" as "a、b"."""
    return "、".join(part.strip().strip("'\"") for part in text.split(","))


def usage_error_text(message: str) -> str:
    """argparse's English refusal as one Chinese line (argument names kept as typed)."""
    text = message.strip()
    if m := re.fullmatch(r"the following arguments are required: (.+)", text):
        names = [n.strip() for n in m[1].split(",")]
        if any(n.endswith("command") for n in names):  # the subcommand's dest
            return "缺少要运行的命令。"
        return f"缺少参数：{'、'.join(names)}。"
    if m := re.fullmatch(r"unrecognized arguments: (.+)", text):
        return f"不认识的参数：{m[1]}。"
    if m := re.fullmatch(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", text):
        value, allowed = _names(m[2]), _names(m[3])
        if not m[1].startswith("-"):
            return f"没有“{value}”这个命令，可以用：{allowed}。"
        return f"{m[1]} 只能是 {allowed}，不能是“{value}”。"
    if m := re.fullmatch(r"argument (\S+): invalid int value: (.+)", text):
        return f"{m[1]} 要填整数，不能是“{_names(m[2])}”。"
    if m := re.fullmatch(r"argument (\S+): expected (one|at least one) argument", text):
        return f"{m[1]} 后面要写上值。"
    if m := re.fullmatch(r"ambiguous option: (\S+) could match (.+)", text):
        return f"{m[1]} 不明确，可能是 {m[2]}。"
    return f"参数有误：{text}。"


class _Parser(argparse.ArgumentParser):
    """Refuses bad arguments in Chinese, on one last line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = f"用 {self.prog} -h 查看用法。"
        self.exit(EXIT_USAGE, visible(f"{usage_error_text(message)}{hint}") + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hubao", description="互保助手：上海职工互助保障参保咨询")
    sub = parser.add_subparsers(dest="command", required=True)

    q = sub.add_parser("quote", help="保费测算")
    q.add_argument("--plans", nargs="+", required=True, help="保障项目代码，如 A0,B0,C0,A1")
    q.add_argument("--start", help="起保日期 YYYY-MM-DD（默认：当前数据年度的集中参保起保日）")
    q.add_argument("--people", type=int, default=1, help="职保在职人数（默认 1）")
    q.add_argument("--non-zhibao", type=int, default=0, help="非职保且未超龄人数（默认 0）")
    q.add_argument("--json", action="store_true", help="输出 JSON")
    q.set_defaults(handler=cmd_quote)

    c = sub.add_parser("chat", help="在终端里和互保助手对话")
    c.add_argument("--user", default="local", help="对话用户（不同用户的对话互不影响）")
    c.add_argument("--db", help="数据库地址（默认 HUBAO_DB_URL 或本机 SQLite 文件）")
    c.add_argument("--out", help="互保助手发回的文件保存到哪个文件夹")
    c.set_defaults(handler=cmd_chat)
    add_telegram_command(sub)

    a = sub.add_parser("ask", help="问答")
    a.add_argument("--db", help="数据库地址")
    a.add_argument("question", nargs="*", help="问题")
    a.add_argument("--batch", metavar="FILE", help="每行一个问题，每行输出一个 JSON")
    a.add_argument("--json", action="store_true", help="输出 JSON")
    a.set_defaults(handler=cmd_ask)

    f = sub.add_parser("faq", help="知识库维护").add_subparsers(dest="faq_command", required=True)
    e = f.add_parser("eval", help="在评测集上测量答题准确率")
    e.add_argument("file")
    e.add_argument("--oos", help="不该回答的问题集")
    e.add_argument("-v", "--verbose", action="store_true", help="列出答错的问题")
    e.set_defaults(handler=cmd_faq_eval)
    ex = f.add_parser("export", help="导出知识库")
    ex.add_argument("--format", choices=["md", "html", "xlsx"], default="html")
    ex.add_argument("-o", "--output")
    ex.add_argument(
        "--with-phrasings",
        action="store_true",
        help="同时导出每条的其他问法、手册出处和编号（知识库维护用；默认只有问题和答案）",
    )
    ex.set_defaults(handler=cmd_faq_export)
    li = f.add_parser("lint", help="检查知识库")
    li.set_defaults(handler=cmd_faq_lint)
    mi = f.add_parser("misses", help="未回答的问题，按相似度分组")
    mi.add_argument("--since", help="起始日期 YYYY-MM-DD")
    mi.add_argument("--db", help="数据库地址")
    mi.set_defaults(handler=cmd_faq_misses)
    add_roster_commands(sub)
    return parser


def _robust_stdio() -> None:
    """Never fail on text the console cannot show or bytes it cannot decode: a GBK or
    ASCII console shows "?" for what it lacks, undecodable input becomes U+FFFD."""
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        if isinstance(stream, io.TextIOWrapper) and stream.errors != "backslashreplace":
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="replace")


def _unexpected(exc: Exception) -> tuple[str, str]:
    """Code and Chinese message for an error no command expected. Nothing of the error's
    own text is shown: it may quote a cell of the user's file (an ID number)."""
    from sqlalchemy.exc import DBAPIError

    # Any OSError counts as "unavailable" inside a chat turn; here only a connection does.
    database = isinstance(exc, DBAPIError | ConnectionError | TimeoutError)
    if database or (storage_unavailable(exc) and not isinstance(exc, OSError)):
        return "db_unavailable", "服务暂时连不上数据库，请稍后再试。"
    if isinstance(exc, OSError):
        return "os_error", f"读写文件时出错（{os_reason(exc)}）。请检查文件路径、权限和磁盘空间。"
    return (
        "internal_error",
        f"出了点意外，没能完成（{type(exc).__name__}）。请检查输入的文件后再试；"
        "如果一直这样，请联系维护人员，并说明运行的是哪条命令。",
    )


def _closed_pipe(fd: int) -> bool:
    """Whether ``fd`` is a pipe or socket whose reader has gone."""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), a closed fd
        return False


def _to_null(stream: Any, *, only_if_closed: bool = True) -> bool:
    """Point ``stream`` at the null device (when its reader has gone), so that nothing more
    written to it, Python's final flush included, fails. Whether it was."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a test's capture
        return False
    if only_if_closed and not _closed_pipe(fd):
        return False
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)
    return True


def _output_closed() -> bool:
    """Whether stdout or stderr was closed by its reader (``hubao … | head``); each that
    was is pointed at the null device."""
    closed_out = _to_null(sys.stdout)
    closed_err = _to_null(sys.stderr)
    return closed_out or closed_err


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command: its exit status (README, "Commands for the hotline team")."""
    _robust_stdio()
    setup_logging(logging.WARNING)  # every command's log lines and tracebacks masked
    try:
        try:
            status = _main(argv)
        finally:  # what is still buffered goes now (--help too): a closed pipe is seen here
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (`| head`): a quiet stop, as `cat` does.
        if not _output_closed():  # not seen as closed (no poll()): stdout it is
            _to_null(sys.stdout, only_if_closed=False)
        return EXIT_OUTPUT_CLOSED
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    as_json = bool(getattr(args, "json", False))
    try:
        return handler(args)
    except (SettingsError, StorageUrlError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KnowledgeBaseError as exc:
        _error(f"知识库文件有误：{exc}")
        return EXIT_USAGE
    except CliError as exc:
        if as_json:
            _print_json({"error": {"code": exc.code, "message": exc.message}})
        _error(exc.message)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("\n已中断。")
        return EXIT_INTERRUPTED
    except Exception as exc:
        # The command boundary: no traceback for the user, whatever went wrong below.
        if isinstance(exc, BrokenPipeError) and _output_closed():
            raise
        if os.environ.get("HUBAO_DEBUG", "") not in {"", "0"}:
            raise
        code, message = _unexpected(exc)
        if as_json:
            _print_json({"error": {"code": code, "message": message}})
        _error(message)
        return EXIT_FAILED


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
