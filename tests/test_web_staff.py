"""Console accounts: passwords stored as slow salted hashes, and `hubao web add-user`
reading the password twice (from a pipe here, as a script would)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io

import pytest

from bot.bootstrap import App
from bot.cli import main
from bot.web.staff import hash_password, valid_name, verify_password
from flows.storage import MemoryStorage

from helpers import faq_service

PASSWORD = "correct horse battery"


def test_the_right_password_verifies_and_a_wrong_one_does_not():
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("", stored)


def test_the_same_password_is_stored_differently_each_time_and_never_in_clear():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second  # a fresh salt each time
    for stored in (first, second):
        assert PASSWORD not in stored
        assert stored.startswith("scrypt$")
        assert base64.b64encode(PASSWORD.encode()).decode() not in stored


def test_a_hash_made_with_other_parameters_still_verifies():
    # The parameters are read back from the stored string: stronger settings later do
    # not lock out the accounts made before.
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**12, r=8, p=1, dklen=32)
    stored = "$".join(
        [
            "scrypt",
            "4096",
            "8",
            "1",
            base64.b64encode(salt).decode(),
            base64.b64encode(key).decode(),
        ]
    )
    assert verify_password(PASSWORD, stored)
    assert not verify_password("another password", stored)


@pytest.mark.parametrize(
    "stored", ["", "scrypt$x$8$1$AA==$AA==", "md5$abc", "scrypt$3$8$1$AA==$AA=="]
)
def test_a_malformed_stored_string_verifies_nothing(stored):
    assert not verify_password(PASSWORD, stored)


def test_account_names():
    assert valid_name("alice") and valid_name("li.ming-2") and valid_name("王小明")
    assert not valid_name("") and not valid_name("a" * 33)
    assert not valid_name("alice bob") and not valid_name("alice\n") and not valid_name("a/b")


@pytest.fixture
def storage(monkeypatch):
    """`hubao web add-user` on one memory storage kept across runs (as a database is)."""
    shared = MemoryStorage()

    async def open_app(settings=None, db_url=None):
        return App(settings, faq_service(), shared)

    monkeypatch.setattr("bot.bootstrap.open_app", open_app)
    monkeypatch.setenv("HUBAO_SECRET_KEY", "staff-tests-secret-key-0123456789")
    return shared


def add_user(monkeypatch, capsys, name, stdin):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(["web", "add-user", name])
    out = capsys.readouterr()
    return status, out.out + out.err


def stored_hash(storage, name):
    return asyncio.run(storage.staff.password_hash(name))


def test_add_user_creates_the_account_then_replaces_its_password(storage, monkeypatch, capsys):
    status, said = add_user(monkeypatch, capsys, "alice", f"{PASSWORD}\n{PASSWORD}\n")
    assert status == 0 and "已新建" in said and "alice" in said
    assert PASSWORD not in said
    first = stored_hash(storage, "alice")
    assert verify_password(PASSWORD, first)

    status, said = add_user(monkeypatch, capsys, "alice", "a new password 2\na new password 2\n")
    assert status == 0 and "密码已更新" in said
    second = stored_hash(storage, "alice")
    assert verify_password("a new password 2", second) and not verify_password(PASSWORD, second)


def test_add_user_refuses_a_short_password(storage, monkeypatch, capsys):
    status, said = add_user(monkeypatch, capsys, "bob", "short\nshort\n")
    assert status == 2 and "10" in said and "没有改动" in said
    assert "short" not in said
    assert stored_hash(storage, "bob") is None


def test_add_user_refuses_two_different_passwords(storage, monkeypatch, capsys):
    status, said = add_user(monkeypatch, capsys, "bob", f"{PASSWORD}\n{PASSWORD}!\n")
    assert status == 2 and "不一样" in said
    assert stored_hash(storage, "bob") is None


def test_add_user_refuses_a_name_with_spaces(storage, monkeypatch, capsys):
    status, said = add_user(monkeypatch, capsys, "bob smith", f"{PASSWORD}\n{PASSWORD}\n")
    assert status == 2 and "账号名" in said
    assert stored_hash(storage, "bob smith") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["web", "--db", "sqlite:///x.db", "add-user", "alice"],
        ["web", "add-user", "alice", "--db", "sqlite:///x.db"],
    ],
)
def test_add_user_keeps_the_database_given_before_or_after_the_name(argv):
    from bot.cli import build_parser

    args = build_parser().parse_args(argv)
    assert (args.name, args.db) == ("alice", "sqlite:///x.db")
