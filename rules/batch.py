"""The platform's batch lifecycle as data: statuses, the actions each allows, and where
each action leads. Used to answer "what can I do now"."""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, model_validator

from rules.datafile import parse_yaml


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Transition(_Frozen):
    action: str
    to: str
    alt: str | None = None
    """Second possible outcome (校验 passes or fails; 提交 needs attachment review or not)."""


class Status(_Frozen):
    label: str
    meaning: str
    actions: tuple[Transition, ...]
    waits_for: str | None = None
    said: tuple[str, ...] = ()
    """Patterns of how handlers describe the status without its label ("凭证还没传")."""


class Action(_Frozen):
    label: str
    how: str


class Lifecycle(_Frozen):
    statuses: dict[str, Status]
    actions: dict[str, Action]

    @model_validator(mode="after")
    def _closed(self) -> Lifecycle:
        for name, status in self.statuses.items():
            for t in status.actions:
                if t.action not in self.actions:
                    raise ValueError(f"{name}: unknown action {t.action}")
                for target in (t.to, t.alt):
                    if target is not None and target not in self.statuses:
                        raise ValueError(f"{name}: unknown status {target}")
        return self

    def find(self, text: str) -> str | None:
        """The status a user's text names (by its platform label), longest label first."""
        for name, status in sorted(self.statuses.items(), key=lambda kv: -len(kv[1].label)):
            if status.label in text:
                return name
        return None

    def allowed(self, status: str) -> tuple[str, ...]:
        return tuple(t.action for t in self.statuses[status].actions)

    def after(self, status: str, action: str) -> tuple[str, ...]:
        """The statuses ``action`` can lead to from ``status``; empty if not allowed there."""
        for t in self.statuses[status].actions:
            if t.action == action:
                return (t.to,) if t.alt is None else (t.to, t.alt)
        return ()


@cache
def lifecycle() -> Lifecycle:
    text = resources.files("rules").joinpath("data", "batch.yaml").read_text(encoding="utf-8")
    return Lifecycle.model_validate(parse_yaml(text))
