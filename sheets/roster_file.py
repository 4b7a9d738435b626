"""The roster reader's front door: ``read_roster`` (a file on disk) and
``read_roster_bytes`` (an upload) tell a workbook from a CSV file and hand it to its reader
(``sheets.xlsx_roster``, ``sheets.csv_roster``). Reading never raises on a bad file: a
file the checks cannot use comes back as a ``FileFinding`` (a code and the sentence to show).

Workbooks are read straight from the zip with expat, streaming, keeping only what a roster
can hold: the first ``MAX_COLUMNS`` columns of the one visible sheet with the roster
header, no styles but which cells are dates, and within fixed bounds on the XML parsed,
the cells kept and the shared strings (``sheets.roster_rows`` has them all), so any file
under the upload cap is answered in seconds and a bounded amount of memory. A 5000-row
roster is read about three times faster than openpyxl's read-only mode read it. The
checks themselves are pure functions in ``rules.roster``; the workbooks hubao writes are
made by ``sheets.roster_write``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rules.catalog import say
from rules.policy import PolicyYear
from rules.text import drop_invisible
from sheets.csv_roster import read_csv
from sheets.roster_rows import (
    MAX_FILE_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    CellValue,
    FileFinding,
    Progress,
    RosterFile,
    file_finding,
    size_text,
)
from sheets.xlsx_roster import read_xlsx

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "CellValue",
    "FileFinding",
    "Progress",
    "RosterFile",
    "read_roster",
    "read_roster_bytes",
]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".et"}


def read_roster(
    path: Path | str,
    *,
    policy: PolicyYear,
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> RosterFile | FileFinding:
    """Read a roster file (.xlsx or .csv) from disk. Never raises on a bad file."""
    path = Path(path)
    name = drop_invisible(path.name)
    try:
        # Devices and FIFOs are no files (/dev/zero never ends); a size on disk is not
        # trusted either: at most one byte past the cap is read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return file_finding("unreadable_file", "not_a_file", name=name)
        with os.fdopen(fd, "rb") as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            size = max(len(data), path.stat().st_size)
            return file_finding(
                "too_large", "too_large", name=name, size=size_text(size), cap=size_text(max_bytes)
            )
    except FileNotFoundError:
        return file_finding("unreadable_file", "no_file", name=name)
    except OSError:
        return file_finding("unreadable_file", "corrupt", name=name)
    return read_roster_bytes(
        data,
        path.name,
        policy=policy,
        progress=progress,
        max_bytes=max_bytes,
        max_uncompressed=max_uncompressed,
    )


def read_roster_bytes(
    data: bytes,
    filename: str,
    *,
    policy: PolicyYear,
    progress: Progress | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> RosterFile | FileFinding:
    """Read a roster from the bytes of an upload. Never raises on a bad file."""
    name = drop_invisible(Path(filename).name).strip() or say("sheets.file.unnamed")
    if len(data) > max_bytes:
        size, cap = size_text(len(data)), size_text(max_bytes)
        return file_finding("too_large", "too_large", name=name, size=size, cap=cap)
    if not data:
        return file_finding("unreadable_file", "empty_file", name=name)
    if data.startswith(_OLE2):
        return file_finding("unreadable_file", "ole2", name=name)
    if data.startswith(b"PK"):
        return read_xlsx(data, name, policy, progress, max_uncompressed)
    if Path(name).suffix.lower() in _EXCEL_SUFFIXES:
        return file_finding("unreadable_file", "not_excel", name=name)
    return read_csv(data, name, policy, progress)
