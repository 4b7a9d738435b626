"""Characters no user types on purpose, removed wherever text enters or leaves hubao.

C0 controls but tab and line breaks (a terminal obeys ESC sequences, a database may refuse
NUL, openpyxl refuses the rest), DEL, C1, the bidirectional marks, overrides and isolates
(they reorder what is displayed), lone surrogates and the two noncharacters XML forbids.
"""

from __future__ import annotations

import re

INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)
# Terminal escape sequences go whole, not just their ESC: "[31m" or "]0;title" left
# behind would still garble a name. CSI, then OSC/DCS/SOS/PM/APC strings (ASCII payload,
# ended by BEL or ST, or by the text's end), then the short ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[\x20-\x7e]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]"
)


def drop_invisible(text: str) -> str:
    """``text`` without terminal escape sequences and the characters of ``INVISIBLE``."""
    if not INVISIBLE.search(text):
        return text
    return INVISIBLE.sub("", _ESCAPE_SEQUENCE.sub("", text))
