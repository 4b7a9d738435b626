"""Settings from the environment: the clock and the secret that keys ID hashes and seals
enrollment drafts."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest

from bot import settings as settings_module
from bot.settings import SecretKeyError, Settings, SettingsError


def test_a_fixed_date_and_a_secret_come_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {"HUBAO_DATA_DIR": str(tmp_path), "HUBAO_TODAY": "2023-07-10",
         "HUBAO_SECRET_KEY": " shared-by-every-process-0001 "}
    )  # fmt: skip
    assert settings.clock() == dt.date(2023, 7, 10)
    assert settings.secret() == b"shared-by-every-process-0001"
    assert not (tmp_path / "secret.key").exists()


def test_without_a_secret_one_is_made_once_and_kept_private(tmp_path):
    settings = Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path / "data")})
    first = settings.secret()
    assert len(first) == 32 and settings.secret() == first
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o777 == 0o600


def test_a_short_secret_or_a_damaged_key_file_is_refused_with_the_fix(tmp_path):
    with pytest.raises(SettingsError, match="至少用 16 个字符"):
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path), "HUBAO_SECRET_KEY": "abc"}).secret()
    (tmp_path / "secret.key").write_text("not hex", encoding="ascii")
    with pytest.raises(SettingsError, match="不是 hubao 写的"):
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "是空的"),  # a crash between creating the file and writing the key
        (b"  \n", "是空的"),
        (bytes.fromhex("ab" * 32).hex()[:40].encode(), "不完整"),  # a write cut short
        (b"ab" * 33, "不是 hubao 写的"),
        ("密钥".encode(), "不是 hubao 写的"),
    ],
)
def test_a_bad_key_file_is_named_with_the_fix_and_left_alone(tmp_path, content, said):
    path = tmp_path / "secret.key"
    path.write_bytes(content)
    with pytest.raises(SecretKeyError) as refused:
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()
    message = str(refused.value)
    assert said in message and str(path) in message
    assert "删掉这个文件" in message and "从备份恢复" in message
    assert isinstance(refused.value, SettingsError)  # every command prints it, no traceback
    assert path.read_bytes() == content


def test_a_key_path_that_is_no_file_is_refused_without_reading_it(tmp_path):
    os.mkfifo(tmp_path / "secret.key")  # reading a pipe would wait for ever
    with pytest.raises(SecretKeyError, match="不是普通文件"):
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()


def test_a_good_key_file_is_read_and_never_rewritten(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("0f" * 32, encoding="ascii")  # as older versions wrote it: no newline
    before = path.stat().st_mtime_ns
    assert Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret() == b"\x0f" * 32
    assert path.read_text(encoding="ascii") == "0f" * 32 and path.stat().st_mtime_ns == before


def test_a_key_write_that_fails_leaves_no_key_file_behind(tmp_path, monkeypatch):
    def disk_failed(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(settings_module.os, "fsync", disk_failed)
    with pytest.raises(SecretKeyError, match="无法写入密钥文件"):
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()
    assert list(tmp_path.iterdir()) == []  # no key file, no temporary file
    monkeypatch.undo()
    key = Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()
    assert len(key) == 32 and [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_first_starts_at_once_agree_on_one_key(tmp_path):
    keys: list[bytes] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def first_start() -> None:
        start.wait()
        try:
            keys.append(Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path / "data")}).secret())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(keys) == 8 and len(set(keys)) == 1
    assert len(keys[0]) == 32
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret.key"]
    assert os.stat(tmp_path / "data" / "secret.key").st_mode & 0o777 == 0o600


def test_a_data_folder_that_cannot_be_made_is_a_clear_message(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file, not a folder")
    with pytest.raises(SecretKeyError, match="HUBAO_DATA_DIR"):
        Settings.from_env({"HUBAO_DATA_DIR": str(blocker / "hubao")}).secret()


def test_a_date_that_is_not_a_date_is_refused():
    with pytest.raises(SettingsError, match="2023-07-10"):
        Settings.from_env({"HUBAO_TODAY": "next monday"})


def test_a_today_that_does_not_exist_is_named_as_such():
    with pytest.raises(SettingsError, match="2023年2月30日不存在"):
        Settings.from_env({"HUBAO_TODAY": "2023-02-30"})
