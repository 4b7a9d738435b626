"""The composition root: builds storage, knowledge base and engine from ``Settings``, and
turns what cannot be opened (a bad database URL, a broken knowledge-base file) into the
``HubaoError`` the command line shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property

from bot.settings import Settings
from faq.answer import FaqService
from faq.kb import KnowledgeBase, KnowledgeBaseError, load_kb
from flows.engine import Engine
from flows.storage import Storage
from flows.storage_factory import open_storage
from flows.storage_sql import private_dir
from rules.catalog import say
from rules.errors import HubaoError
from rules.policy import install_years


def build_engine(settings: Settings, storage: Storage, faq: FaqService) -> Engine:
    # The flows pull in the workbook and encryption libraries: imported here, so commands
    # that only answer questions (`hubao ask`, `hubao faq`) start without them.
    from flows.menu import default_flows, default_shortcuts
    from flows.vault import Vault

    return Engine(
        storage=storage,
        faq=faq,
        flows=default_flows(),
        shortcuts=default_shortcuts(),
        today=settings.clock,
        now=lambda: dt.datetime.now(dt.UTC),
        vault=Vault(settings.secret()),
    )


@dataclass
class App:
    settings: Settings
    faq: FaqService
    storage: Storage

    @cached_property
    def engine(self) -> Engine:
        """Built on first use: the chat channels need it, `hubao ask` does not."""
        return build_engine(self.settings, self.storage, self.faq)


async def open_app(settings: Settings | None = None, db_url: str | None = None) -> App:
    """Open the app inside the running event loop (database drivers bind to it)."""
    settings = settings or Settings.from_env()
    if db_url:
        settings = replace(settings, db_url=db_url)
    install_operator_years(settings)
    if settings.data_dir.is_dir():
        # It holds the key file, the SQLite database and the files sent: its owner's only.
        private_dir(settings.data_dir, tighten=True)
    storage = await open_storage(settings.db_url, settings.data_dir)
    return App(settings, FaqService(knowledge_base()), storage)


def install_operator_years(settings: Settings) -> None:
    """Use the operators' policy years (HUBAO_POLICY_DIR) beside the packaged ones, for
    every command that answers with figures; a file there that cannot be used stops the
    command with a message naming it, before any figure is given."""
    from bot.policy_files import load_operator_years

    install_years(load_operator_years(settings.policy_dir))


def knowledge_base() -> KnowledgeBase:
    """The knowledge base; a file in it that cannot be used is said as such."""
    try:
        return load_kb()
    except KnowledgeBaseError as exc:
        raise HubaoError(say("bot.cli.bad_kb", reason=str(exc))) from None
