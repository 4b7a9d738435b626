"""The admin commands for the hotline team: /stats (usage counts of every channel) and
/misses (questions that got no answer lately, similar ones grouped; stored masked).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.telegram.events import TelegramEvent, command_text
from faq.misses import group_misses
from flows.storage import Storage
from rules.catalog import say

MISSES_DAYS = 30
MISSES_SHOWN = 20


def admin_command(event: TelegramEvent, admins: frozenset[int]) -> str | None:
    if event.user_id not in admins or event.callback_id is not None:
        return None
    command = command_text(event.text).strip().lower()
    return command[1:] if command in {"/stats", "/misses"} else None


async def admin_text(storage: Storage, command: str, today: dt.date) -> str:
    """/stats and /misses for the hotline team (misses are stored masked)."""
    if command == "stats":
        counts = await storage.stats()
        fields = ("conversations", "turns", "answers", "clarifications", "fallbacks")
        values: dict[str, Any] = {f: counts.get(f, 0) for f in fields}
        return say("bot.telegram.stats", **values)
    since = today - dt.timedelta(days=MISSES_DAYS)
    groups = group_misses(await storage.misses(since))
    if not groups:
        return say("bot.telegram.no_misses", days=MISSES_DAYS)
    total = sum(g.count for g in groups)
    lines = [say("bot.telegram.misses_head", days=MISSES_DAYS, total=total, shown=MISSES_SHOWN)]
    lines += [
        say("bot.telegram.misses_line", count=g.count, question=g.question)
        for g in groups[:MISSES_SHOWN]
    ]
    lines.append(say("bot.telegram.misses_tail"))
    return "\n".join(lines)
