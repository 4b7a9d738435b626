"""Errors hubao expects, with one root.

``HubaoError`` is the root of every expected error in every layer: it carries a Chinese
``message`` a user can read as is and the ``exit_status`` a command ends with, and the
command line catches it in one place. The rules' errors carry a stable ``code`` and are
raised with a key of the text catalog and its values (``key``, ``values``); their
``message`` is that sentence rendered::

    HubaoError
    └── RulesError
        ├── NoPolicyData        a date outside every known policy year
        ├── InvalidInput        a value that cannot be read (a date, a plan code, ...)
        └── SelectionRefused    plan codes the rules refuse (``rules.premium``)
"""

from __future__ import annotations

from typing import Any

from rules.sentence import Sentence


class HubaoError(Exception):
    """Root of every error hubao expects: a message for the user, a status for the shell."""

    exit_status = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RulesError(HubaoError):
    """Root of every error the rules raise: the catalog's sentence ``key`` with ``values``."""

    code = "rules_error"

    def __init__(self, key: str, /, **values: Any) -> None:
        super().__init__(Sentence.of(key, **values).text)
        self.key = key
        self.values = values


class NoPolicyData(RulesError):
    code = "no_policy_data"


class InvalidInput(RulesError):
    code = "invalid_input"
