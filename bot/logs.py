"""Logging for the hubao commands: no full ID or mobile number in any line written.

:func:`setup_logging` stands in for ``logging.basicConfig``. Its handler on the root logger
has a filter that masks each record before it is formatted: the message with its
arguments, and an exception's traceback (with the exception's message and arguments,
chained causes and notes) and the stack, which are formatted once, masked and kept as the
record's text, so no later handler can format them raw again. Its formatter masks the
finished line once more. Exceptions nobody caught are logged the same way instead of being
printed raw by Python.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import TextIO

from rules.privacy import mask_personal_data

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "aiogram.event")
"""Kept to warnings: their request logs carry the bot token in the URL."""

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
_MASKED = "hubao_masked"
_PLAIN = logging.Formatter()
log = logging.getLogger("hubao")


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask ``record`` in place (once): message and arguments, traceback, stack."""
    if getattr(record, _MASKED, False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: show both, masked
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = mask_personal_data(message), None
    if record.exc_info or record.exc_text:
        info: ExcInfo = record.exc_info or (None, None, None)
        text = record.exc_text or _PLAIN.formatException(info)
        record.exc_text, record.exc_info = mask_personal_data(text), None
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    setattr(record, _MASKED, True)
    return record


class MaskingFilter(logging.Filter):
    """Masks each record passing through (see :func:`mask_record`); drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


class MaskingFormatter(logging.Formatter):
    """A formatter whose every output is masked, whatever reached it unmasked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(mask_record(record)))

    def formatException(self, ei: ExcInfo) -> str:
        return mask_personal_data(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_personal_data(super().formatStack(stack_info))


class _HubaoHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`setup_logging` installs (replaced when it is called again)."""


def setup_logging(
    level: int = logging.INFO, stream: TextIO | None = None, *, excepthook: bool = True
) -> logging.Handler:
    """Log to ``stream`` (default stderr) at ``level``, every line masked.

    Handlers already on the root logger get the masking filter too; third-party loggers
    whose lines carry secrets are kept to warnings; with ``excepthook``, uncaught
    exceptions (main thread and other threads) are logged, masked, instead of printed."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HubaoHandler)]:
        root.removeHandler(old)
    handler = _HubaoHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(MaskingFormatter(LOG_FORMAT))
    handler.addFilter(MaskingFilter())
    for other in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in other.filters):
            other.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if excepthook:
        sys.excepthook = log_uncaught
        threading.excepthook = _log_uncaught_in_thread
    return handler


def log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """``sys.excepthook``: an uncaught exception logged (masked); Ctrl-C left to Python."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    log.critical("uncaught exception in thread %s", name, exc_info=exc_info)
