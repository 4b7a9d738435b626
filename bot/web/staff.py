"""Console accounts: password hashing and ``hubao web add-user`` (console helper)."""

from __future__ import annotations


def add_user_command(name: str, db_url: str | None) -> int:
    """Prompt for the password twice (read from stdin when it is not a terminal) and store
    its slow salted hash; the exit status."""
    raise NotImplementedError
