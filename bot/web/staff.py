"""Console accounts: password hashing and ``hubao web add-user NAME``.

Passwords are stored as slow salted hashes (``hashlib.scrypt``), in one string that names
its own parameters, ``scrypt$n$r$p$salt$hash``: stronger parameters later still verify the
hashes stored before. The password itself is never printed, logged or stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import functools
import getpass
import hashlib
import hmac
import re
import secrets
import sys
import unicodedata
from collections.abc import Callable

from rules.catalog import say

N, R, P = 2**14, 8, 1
"""scrypt's cost: about 16 MB and some 50 ms a try, enough to make guessing a stolen
database's passwords slow, cheap enough for a login."""
SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
"""Longer input is refused before hashing: no login can make the server hash megabytes."""
MAX_NAME = 32
_NAME = re.compile(r"^[\w.\-]+$")
_MAX_COST = 2**20  # a stored string asking for more is not ours: refused, not computed


def hash_password(password: str) -> str:
    """The stored form of ``password``: a fresh random salt each time."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, N, R, P)
    return "$".join(["scrypt", str(N), str(R), str(P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from; False for a malformed
    string. Compared in constant time."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        cost = (int(n), int(r), int(p))
        salt_bytes, key_bytes = _unb64(salt), _unb64(key)
    except (ValueError, binascii.Error):
        return False
    if scheme != "scrypt" or not 1 < cost[0] <= _MAX_COST or cost[1] > 64 or cost[2] > 16:
        return False
    if len(password) > MAX_PASSWORD or not key_bytes:
        return False
    try:
        computed = _scrypt(password, salt_bytes, *cost, length=len(key_bytes))
    except ValueError:  # parameters scrypt refuses (n not a power of two, ...)
        return False
    return hmac.compare_digest(computed, key_bytes)


@functools.cache
def dummy_hash() -> str:
    """Checked against when the account does not exist: an unknown name takes as long to
    refuse as a wrong password, so timing does not tell which names exist."""
    return hash_password(secrets.token_urlsafe(16))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=length
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def valid_name(name: str) -> bool:
    """1-32 letters (Chinese too), digits, '.', '_' or '-'; nothing invisible."""
    return (
        0 < len(name) <= MAX_NAME
        and _NAME.match(name) is not None
        and all(unicodedata.category(c)[0] != "C" for c in name)
    )


def read_password(
    ask: Callable[[str], str] | None = None, lines: Callable[[], str] | None = None
) -> tuple[str, str]:
    """The password and its repetition: prompted without echo on a terminal, else two
    lines of stdin (scripts and tests pipe them in)."""
    if ask is None and lines is None and sys.stdin.isatty():
        ask = getpass.getpass
    if ask is not None:
        return ask(say("web.console.cli.password")), ask(say("web.console.cli.again"))
    read = lines or sys.stdin.readline
    return read().rstrip("\r\n"), read().rstrip("\r\n")


def add_user_command(name: str, db_url: str | None) -> int:
    """Prompt for the password twice (read from stdin when it is not a terminal) and store
    its slow salted hash; the exit status."""
    if not valid_name(name):
        print(say("web.console.cli.bad_name", most=MAX_NAME), file=sys.stderr)
        return 2
    password, again = read_password()
    if password != again:
        print(say("web.console.cli.mismatch"), file=sys.stderr)
        return 2
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        print(
            say("web.console.cli.length", least=MIN_PASSWORD, most=MAX_PASSWORD), file=sys.stderr
        )
        return 2
    created = asyncio.run(_store(name, hash_password(password), db_url))
    print(say("web.console.cli.created" if created else "web.console.cli.replaced", name=name))
    return 0


async def _store(name: str, password_hash: str, db_url: str | None) -> bool:
    from bot.bootstrap import open_app
    from bot.settings import Settings

    app = await open_app(Settings.from_env(), db_url)
    try:
        return await app.storage.staff.set_password(name, password_hash, dt.datetime.now(dt.UTC))
    finally:
        await app.storage.close()
