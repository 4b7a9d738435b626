"""Files the commands read and write: only regular files are read, never more than a cap;
files written are readable by their owner only (they carry personal data), and a file
already there is never replaced by one hubao sends back.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO

from bot.console import clean_line
from bot.settings import os_reason
from rules.catalog import say


class FileRefused(Exception):
    """Why a path was not read. ``reason``: not_found, folder, not_regular, too_large,
    no_permission, unreadable; ``size`` when too large and known; ``detail`` the OS text."""

    def __init__(self, reason: str, *, size: int | None = None, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.size = size
        self.detail = detail


def write_private_file(path: Path, data: bytes | None = None) -> IO[bytes]:
    """Open ``path`` for writing, readable by its owner only whatever the umask (saved
    workbooks carry personal data); a symlink placed there is not followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)  # an older file of that name keeps its mode otherwise
    out = os.fdopen(fd, "wb")
    if data is not None:
        with out:
            out.write(data)
    return out


def read_regular_file(path: Path, cap: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``cap`` of them.

    Devices, pipes and folders are refused without reading (``/dev/zero`` never ends, a
    FIFO blocks); the read stops after ``cap + 1`` bytes whatever the file's size claims.
    Raises FileRefused."""
    try:
        before = os.stat(path)
        if stat.S_ISDIR(before.st_mode):
            raise FileRefused("folder")
        if not stat.S_ISREG(before.st_mode):
            raise FileRefused("not_regular")
        if before.st_size > cap:
            raise FileRefused("too_large", size=before.st_size)
        # O_NONBLOCK: were the path swapped for a FIFO since the stat, opening won't hang.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileRefused("not_found") from None
    except PermissionError:
        raise FileRefused("no_permission") from None
    except OSError as exc:
        raise FileRefused("unreadable", detail=os_reason(exc)) from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise FileRefused("not_regular")
        chunks: list[bytes] = []
        total = 0
        while total <= cap:
            chunk = os.read(fd, min(1024 * 1024, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise FileRefused("too_large")
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused("unreadable", detail=os_reason(exc)) from None
    finally:
        os.close(fd)


MAX_SAME_NAME = 999


def save_new_file(folder: Path, name: str, data: bytes) -> Path:
    """Save ``data`` as a new owner-only file in ``folder``: under ``name``, or, when that
    is taken, "name (2).xlsx", "name (3).xlsx"… An existing file is never replaced, even
    one created by another process at the same moment; a symlink is not followed."""
    stem, suffix = Path(name).stem, Path(name).suffix
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    for n in range(1, MAX_SAME_NAME + 1):
        path = folder / (name if n == 1 else f"{stem} ({n}){suffix}")
        try:
            fd = os.open(path, flags, 0o600)  # a new file: 0o600 whatever the umask allows
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except OSError:
            path.unlink(missing_ok=True)  # no half-written file left under that name
            raise
        return path
    raise FileExistsError(errno.EEXIST, say("bot.files.too_many", count=MAX_SAME_NAME), name)


def safe_file_name(name: str) -> str:
    """A name to save a file under inside the output folder: no folders, no controls."""
    base = clean_line(Path(name.replace("\\", "/")).name).strip()
    return base if base not in {"", ".", ".."} else say("bot.default_file_name")
