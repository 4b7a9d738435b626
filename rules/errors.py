"""Errors raised by the program's rules.

One root, every domain error below it carries a stable ``code`` and a Chinese
``message`` that a shell can show a user as is::

    RulesError
    ├── NoPolicyData        a date outside every known policy year
    ├── CalendarUnavailable the official working-day calendar has no data for a date
    └── InvalidInput        a value that cannot be read (a date, a plan code, ...)
"""

from __future__ import annotations


class RulesError(Exception):
    """Root of every error the rules raise."""

    code = "rules_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoPolicyData(RulesError):
    code = "no_policy_data"


class CalendarUnavailable(RulesError):
    code = "calendar_unavailable"


class InvalidInput(RulesError):
    code = "invalid_input"
