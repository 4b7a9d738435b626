"""Configuration from the environment, read once at start."""

from __future__ import annotations

import datetime as dt
import os
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
        )

    def clock(self) -> dt.date:
        return self.today or dt.date.today()
