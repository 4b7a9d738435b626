"""Configuration from the environment, read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    """Where hubao keeps its files (the recorded misses, the default SQLite database)."""

    @classmethod
    def from_env(cls) -> Settings:
        default = Path.home() / ".local" / "share" / "hubao"
        return cls(data_dir=Path(os.environ.get("HUBAO_DATA_DIR") or default))

    @property
    def misses_path(self) -> Path:
        return self.data_dir / "misses.jsonl"
