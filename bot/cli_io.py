"""What every ``hubao`` command shares: the refusal it ends with (``CliError``), output as
Chinese lines or JSON, arguments refused in Chinese (``ChineseParser``), dates typed as
arguments, the app opened for one command, and a console that never breaks the command
(text it cannot show, a reader that stopped reading: ``hubao … | head``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import os
import re
import select
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from bot.bootstrap import App, open_app
from bot.console import BadDate, json_text, parse_date, visible
from rules.catalog import say
from rules.errors import HubaoError

EXIT_USAGE = 2


class CliError(HubaoError):
    """A refusal to show the user: stable code and Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def print_json(obj: Any) -> None:
    print(json_text(obj))


def print_error(text: str) -> None:
    print(visible(text), file=sys.stderr)


def date_arg(text: str) -> dt.date:
    """A date argument; a day that does not exist (2023-02-30) is said to be so."""
    try:
        return parse_date(text)
    except BadDate as exc:
        raise CliError("bad_date", exc.message) from None


T = TypeVar("T")


def with_app(args: argparse.Namespace, work: Callable[[App], Awaitable[T]]) -> T:
    """Run ``work`` on the app opened for this command (``--db`` when given), then close."""

    async def run() -> T:
        app = await open_app(db_url=getattr(args, "db", None))
        try:
            return await work(app)
        finally:
            await app.storage.close()

    return asyncio.run(run())


def _names(text: str) -> str:
    """argparse's "'a', 'b'" as "a、b"."""
    return "、".join(part.strip().strip("'\"") for part in text.split(","))


def usage_error_text(message: str) -> str:
    """argparse's English refusal as one Chinese line (argument names kept as typed)."""
    text = message.strip()
    if m := re.fullmatch(r"the following arguments are required: (.+)", text):
        names = [n.strip() for n in m[1].split(",")]
        if any(n.endswith("command") for n in names):  # the subcommand's dest
            return say("bot.cli.usage.no_command")
        return say("bot.cli.usage.missing", names="、".join(names))
    if m := re.fullmatch(r"unrecognized arguments: (.+)", text):
        return say("bot.cli.usage.unrecognized", args=m[1])
    if m := re.fullmatch(r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", text):
        value, allowed = _names(m[2]), _names(m[3])
        if not m[1].startswith("-"):
            return say("bot.cli.usage.no_such_command", value=value, allowed=allowed)
        return say("bot.cli.usage.bad_choice", option=m[1], value=value, allowed=allowed)
    if m := re.fullmatch(r"argument (\S+): invalid int value: (.+)", text):
        return say("bot.cli.usage.not_int", option=m[1], value=_names(m[2]))
    if m := re.fullmatch(r"argument (\S+): expected (one|at least one) argument", text):
        return say("bot.cli.usage.no_value", option=m[1])
    if m := re.fullmatch(r"ambiguous option: (\S+) could match (.+)", text):
        return say("bot.cli.usage.ambiguous", option=m[1], matches=m[2])
    return say("bot.cli.usage.other", text=text)


class ChineseParser(argparse.ArgumentParser):
    """Refuses bad arguments in Chinese, on one last line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        hint = say("bot.cli.usage.hint", prog=self.prog)
        self.exit(EXIT_USAGE, visible(f"{usage_error_text(message)}{hint}") + "\n")


def robust_stdio() -> None:
    """Never fail on text the console cannot show or bytes it cannot decode: a GBK or
    ASCII console shows "?" for what it lacks, undecodable input becomes U+FFFD."""
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        if isinstance(stream, io.TextIOWrapper) and stream.errors != "backslashreplace":
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="replace")


def _closed_pipe(fd: int) -> bool:
    """Whether ``fd`` is a pipe or socket whose reader has gone."""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), a closed fd
        return False


def to_null(stream: Any, *, only_if_closed: bool = True) -> bool:
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


def output_closed() -> bool:
    """Whether stdout or stderr was closed by its reader (``hubao … | head``); each that
    was is pointed at the null device."""
    closed_out = to_null(sys.stdout)
    closed_err = to_null(sys.stderr)
    return closed_out or closed_err
