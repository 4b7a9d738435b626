"""The composition root: builds storage, knowledge base and engine from settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import load_kb
from flows.catalog import default_flows, default_shortcuts
from flows.engine import Engine
from flows.storage import Storage
from flows.storage_factory import open_storage
from flows.vault import Vault


@dataclass(frozen=True)
class App:
    settings: Settings
    faq: FaqService
    storage: Storage
    engine: Engine


def build_engine(settings: Settings, storage: Storage, faq: FaqService) -> Engine:
    return Engine(
        storage=storage,
        faq=faq,
        flows=default_flows(),
        shortcuts=default_shortcuts(),
        today=settings.clock,
        now=lambda: dt.datetime.now(dt.UTC),
        services={"vault": Vault(settings.secret())},
    )


async def open_app(settings: Settings | None = None, db_url: str | None = None) -> App:
    """Open the app inside the running event loop (database drivers bind to it)."""
    settings = settings or Settings.from_env()
    if db_url:
        settings = replace(settings, db_url=db_url)
    storage = await open_storage(settings.db_url, settings.data_dir)
    faq = FaqService(load_kb())
    return App(settings, faq, storage, build_engine(settings, storage, faq))
