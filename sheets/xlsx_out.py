"""The one way hubao puts a value into a workbook it writes.

Names and unit names come from users: ``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0`` typed
as a name must reach the file as the text it was, never as a live formula, and control
characters (which Excel refuses, and openpyxl raises on) are dropped. Every writer (the
template, the annotated report, the clean roster, the summary) goes through ``put``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from rules.text import drop_invisible

_PLAIN = (int, float, dt.date, dt.time, dt.timedelta)


def put(ws: Any, row: int, column: int, value: object) -> Any:
    """Write ``value`` into cell (row, column) of ``ws`` and return the cell. Text is
    stored as text whatever it starts with; numbers and dates as themselves."""
    cell = ws.cell(row, column)
    if value is None or (isinstance(value, _PLAIN) and not isinstance(value, str)):
        cell.value = value
    elif isinstance(value, Decimal):
        cell.value = float(value)
    else:
        cell.value = drop_invisible(str(value))
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise
    return cell


def workbook_bytes(write: Callable[[IO[bytes]], object]) -> bytes:
    """The bytes of a workbook written by ``write`` (for sending in chat)."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()
