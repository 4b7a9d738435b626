"""Settings from the environment: the clock and the secret that keys ID hashes and seals
enrollment drafts."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.settings import Settings, SettingsError


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
    with pytest.raises(SettingsError, match="已损坏"):
        Settings.from_env({"HUBAO_DATA_DIR": str(tmp_path)}).secret()


def test_a_date_that_is_not_a_date_is_refused():
    with pytest.raises(SettingsError, match="2023-07-10"):
        Settings.from_env({"HUBAO_TODAY": "next monday"})
