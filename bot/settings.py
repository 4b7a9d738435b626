"""Configuration from the environment, read once at start."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class SettingsError(Exception):
    """A setting that cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Where hubao keeps its files (the default SQLite database, files sent back)."""
    db_url: str | None
    """HUBAO_DB_URL: None means the SQLite file in ``data_dir``."""
    today: dt.date | None
    """HUBAO_TODAY: a fixed date for demos and tests; None means the real date."""
    secret_key: str | None = None
    """HUBAO_SECRET_KEY: keys the ID hashes and seals draft rosters. Processes sharing a
    database must share it; None means a key file kept in ``data_dir``."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        default = Path.home() / ".local" / "share" / "hubao"
        today = None
        if raw := env.get("HUBAO_TODAY"):
            try:
                today = dt.date.fromisoformat(raw.strip())
            except ValueError:
                raise SettingsError(
                    f"HUBAO_TODAY={raw} 不是日期，请写成 2023-07-10 这样的格式。"
                ) from None
        return cls(
            data_dir=Path(env.get("HUBAO_DATA_DIR") or default),
            db_url=env.get("HUBAO_DB_URL") or None,
            today=today,
            secret_key=(env.get("HUBAO_SECRET_KEY") or "").strip() or None,
        )

    def clock(self) -> dt.date:
        return self.today or dt.date.today()

    def secret(self) -> bytes:
        """HUBAO_SECRET_KEY, or the key file in ``data_dir``, created on first use."""
        if self.secret_key is not None:
            if len(self.secret_key) < 16:
                raise SettingsError("HUBAO_SECRET_KEY 太短了，请至少用 16 个字符的随机字符串。")
            return self.secret_key.encode("utf-8")
        path = self.data_dir / "secret.key"
        try:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            pass
        except ValueError:
            raise SettingsError(
                f"密钥文件 {path} 已损坏：请恢复备份，或删除它（已保存的参保草稿将无法读取）。"
            ) from None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        # Created readable by the owner only; O_EXCL: two first starts cannot both write.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key.hex())
        return key
