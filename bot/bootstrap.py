"""The composition root: builds the services from settings. Tests pass their own."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from faq.misses import JsonlMissLog


@dataclass(frozen=True)
class App:
    settings: Settings
    faq: FaqService


def bootstrap(settings: Settings | None = None) -> App:
    settings = settings or Settings.from_env()
    return App(settings, FaqService(load_kb(), JsonlMissLog(settings.misses_path)))
