"""The log never holds a full ID or mobile number: messages, arguments, tracebacks."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from bot.logs import MaskingFormatter, log_uncaught, setup_logging

ID = "310101199001010252"
MOBILE = "13812345678"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), [list(h.filters) for h in root.handlers])
    hooks = (sys.excepthook, threading.excepthook)
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        level, handlers, filters = saved
        for handler, kept in zip(handlers, filters, strict=True):
            handler.filters[:] = kept
            root.addHandler(handler)
        root.setLevel(level)
        sys.excepthook, threading.excepthook = hooks


@pytest.fixture
def stream(restore_logging: None) -> io.StringIO:
    out = io.StringIO()
    setup_logging(logging.DEBUG, out)
    return out


def assert_masked(text: str) -> None:
    plain = text.replace(" ", "").replace("-", "")
    assert ID not in plain and MOBILE not in plain, text


def test_an_exception_with_an_id_in_its_message_is_logged_masked(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"bad id {ID}")
    except ValueError:
        logging.getLogger("hubao.test").exception("checking the roster failed")
    out = stream.getvalue()
    assert "Traceback" in out and "ValueError: bad id 3101**********0252" in out
    assert_masked(out)


def test_exception_args_causes_and_notes_are_masked(stream: io.StringIO) -> None:
    try:
        try:
            raise KeyError("310101 19900101 0252")
        except KeyError as cause:
            error = RuntimeError("row 3", f"ID{ID}", "+86 138 1234 5678")
            error.add_note(f"phone {MOBILE[:3]}-{MOBILE[3:7]}-{MOBILE[7:]}")
            raise error from cause
    except RuntimeError:
        logging.getLogger("hubao.test").error("failed", exc_info=True)
    out = stream.getvalue()
    assert "The above exception was the direct cause" in out
    assert "3101**********0252" in out and "138****5678" in out
    assert_masked(out)


def test_message_arguments_and_the_stack_are_masked(stream: io.StringIO) -> None:
    log = logging.getLogger("hubao.test")
    log.info("user %s sent %r", MOBILE, {"id": ID})
    log.warning("where was %s", "ＩＤ" + ID, stack_info=True)  # 310101199001010252
    out = stream.getvalue()
    assert "user 138****5678 sent {'id': '3101**********0252'}" in out
    assert "Stack (most recent call last)" in out
    assert_masked(out)


def test_handlers_already_there_see_masked_records_too(restore_logging: None) -> None:
    earlier = io.StringIO()
    plain = logging.StreamHandler(earlier)
    plain.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger().addHandler(plain)
    setup_logging(logging.INFO, io.StringIO())
    try:
        raise OSError(f"cannot read {ID}")
    except OSError:
        logging.getLogger("hubao.test").exception("phone %s", MOBILE)
    assert "138****5678" in earlier.getvalue() and "Traceback" in earlier.getvalue()
    assert_masked(earlier.getvalue())


def test_setting_up_twice_writes_each_line_once(restore_logging: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    setup_logging(logging.INFO, first)
    setup_logging(logging.INFO, second)
    logging.getLogger("hubao.test").info("hello")
    assert first.getvalue() == "" and second.getvalue().count("hello") == 1


def test_an_uncaught_exception_is_logged_masked(stream: io.StringIO) -> None:
    assert sys.excepthook is log_uncaught
    try:
        raise LookupError(f"no draft for {ID}")
    except LookupError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    out = stream.getvalue()
    assert "CRITICAL" in out and "LookupError: no draft for 3101**********0252" in out
    assert_masked(out)


def test_an_uncaught_exception_in_a_thread_is_logged_masked(stream: io.StringIO) -> None:
    def work() -> None:
        raise ValueError(f"mobile {MOBILE}")

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    out = stream.getvalue()
    assert "uncaught exception in thread worker" in out and "138****5678" in out
    assert_masked(out)


def test_the_formatter_alone_masks_what_it_formats() -> None:
    formatter = MaskingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError(ID)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "id %s", (ID,), sys.exc_info())
    out = formatter.format(record)
    assert out.startswith("ERROR id 3101**********0252") and "ValueError" in out
    assert_masked(out)
