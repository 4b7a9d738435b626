"""Who a conversation is with: ``ConversationKey`` (channel, chat, user), shared by the
storage port and the ports beside it (files sent, staff accounts) without an import cycle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The users' clock (China has no daylight saving): days in figures are Shanghai days."""


@dataclass(frozen=True)
class ConversationKey:
    """One conversation: a chat on a channel with one user."""

    channel: str
    chat_id: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}:{self.user_id}"
