"""The dialog engine: one turn per incoming message, persisted by the storage port.

Order of handling in a turn: a pressed button (or its number typed), a global command (also
inside a sentence: "我要转人工"), then what the text means:

- while a flow waits for an answer: a correction of an earlier answer when the message marks
  one ("不对，是10个人"); else the pending question's answer; else other slots it mentions
  (empty ones filled, named ones changed); else a request for another flow (run beside this
  one when it finishes at once, otherwise this one is parked); else a side question answered
  before asking again;
- outside a flow: a follow-up that changes a value of the last result ("那10个人呢"), a
  flow's label or request (its values prefill the flow), a shortcut (batch status guide), and
  finally the knowledge base, whose matcher ranks flow intents with the entries.

A resumable flow (the enrollment) left for the menu, another flow, /cancel or a pausing
step is parked with its slots; starting it again resumes where it stopped. Only /restart
and /forget discard it.

The package: ``words`` (commands and other words read before any flow), ``base`` (what all
parts share), ``runner`` (a flow's questions, corrections and steps), ``outside`` (a message
outside a flow, the knowledge base), ``commands`` (buttons and commands), ``turn`` (the
``Engine`` and its turn loop).
"""

from flows.engine.base import FlowEntry, Shortcut, Trigger
from flows.engine.turn import Engine
from flows.engine.words import MAX_TEXT_CHARS, command_of

__all__ = ["MAX_TEXT_CHARS", "Engine", "FlowEntry", "Shortcut", "Trigger", "command_of"]
