"""What channels hand the engine and what they get back. No channel types here."""

from __future__ import annotations

from dataclasses import dataclass

from flows.storage import ConversationKey


@dataclass(frozen=True)
class IncomingFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class Incoming:
    """A normalized user message: text, a pressed button's value, or a file."""

    key: ConversationKey
    message_id: str | None = None
    text: str = ""
    button: str | None = None
    file: IncomingFile | None = None


@dataclass(frozen=True)
class Choice:
    """A button. ``value`` is what comes back as ``Incoming.button`` when pressed."""

    label: str
    value: str


@dataclass(frozen=True)
class OutgoingFile:
    name: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    files: tuple[OutgoingFile, ...] = ()
