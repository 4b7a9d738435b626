"""Personal data at rest: ID numbers as keyed hashes, roster rows sealed (encrypted).

An enrollment draft must survive restarts and still write the unit's clean roster at the
end, after fixes made in chat. So while the draft is open it keeps the rows it needs sealed
with Fernet (AES-128-CBC with HMAC-SHA256) under the deployment's secret, and it drops them
once the summary has been delivered. Duplicate detection across units uses keyed hashes
only; chat and transcripts see masked numbers only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from flows.storage import id_hash


def _derive(secret: bytes, purpose: bytes) -> bytes:
    # One secret, separate keys: a leaked hash key must not open sealed rows.
    return hmac.new(secret, purpose, hashlib.sha256).digest()


class Vault:
    """Hashes ID numbers and seals JSON-serializable data under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret must be at least 16 bytes")
        self._hash_key = _derive(secret, b"hubao/id-hash")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"hubao/seal")))

    def id_hash(self, number: str) -> str:
        return id_hash(number, self._hash_key)

    def seal(self, data: Any) -> str:
        raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._fernet.encrypt(raw).decode("ascii")

    def unseal(self, token: str) -> Any | None:
        """The sealed data, or None if it was sealed under another secret or altered."""
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            return None
