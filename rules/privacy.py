"""Personal data in free text: ID and mobile numbers are masked before anything is kept.

People write the numbers in many ways: grouped with spaces or dashes (``157-7370-8775``,
``310101 19870216 2209``), after a country code (``+86 152 9699 4522``, ``0086-152…``,
``+8615296994522``), after a label (``ID320102199006247703``), in full-width digits, as
15-digit first-generation IDs, with a lowercase check ``x``. Digits are read in groups:
runs of digits joined by one to three separators (spaces, dashes, dots; the same ones
all along a number). A number spans whole groups, so dates (2023-07-01), amounts
(1,500.00), counts (5000) and other short numbers are never read as part of one.

What counts as a number:

- an 18-character ID: 17 digits and a digit or X, not starting with 0, with a plausible
  birth date (19xx or 20xx) in characters 7 to 14; unit credit codes have none there;
- a 15-digit first-generation ID: not starting with 0, a plausible YYMMDD in digits 7 to
  12;
- a mobile number: 11 digits starting 13 to 19, possibly after 86 or 0086 in the same run.

Several groups form a number only when each holds at least 3 characters (an ID's last at
least 2: ``3101 0119 8702 1622 09``), so dates and lists of small counts do not become
one. Digits next to a mask's stars are left alone: masking twice changes nothing.

Masks keep the shapes shown in chat: ``3101**********0252`` and ``138****5678``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rules.ids import mask_id

_SEPARATOR = (
    r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"  # spaces, also full-width
    r"\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"  # hyphens and dashes, also full-width
    r"._\uff0e\uff3f]"
)
_X = "XxＸｘ"
_CHAIN = re.compile(rf"\d+[{_X}]?(?:{_SEPARATOR}{{1,3}}\d+[{_X}]?)*")
_GROUP = re.compile(rf"\d+[{_X}]?")
_MIN_CHARS = 11
_MAX_CHARS = 18
_MIN_GROUP = 3
_MIN_LAST_ID_GROUP = 2
_STARS = "***"


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    chars: str
    """ASCII digits, and an upper-case X at the end if the group has one."""
    joint: str
    """The separators before it ("" for a chain's first group)."""
    masked: bool
    """Next to a mask's stars: already masked, so masking twice changes nothing."""


def _ascii(raw: str) -> str:
    if raw.isascii():
        return raw.upper()
    return "".join("X" if c in _X else str(unicodedata.decimal(c)) for c in raw)


def _plausible_date(year: int, month: int, day: int) -> bool:
    return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _is_id18(chars: str) -> bool:
    if len(chars) != 18 or not chars[:17].isdigit() or chars[0] == "0":
        return False
    if not (chars[17].isdigit() or chars[17] == "X"):
        return False
    return _plausible_date(int(chars[6:10]), int(chars[10:12]), int(chars[12:14]))


def _is_id15(chars: str) -> bool:
    if len(chars) != 15 or not chars.isdigit() or chars[0] == "0":
        return False
    return _plausible_date(1900 + int(chars[6:8]), int(chars[8:10]), int(chars[10:12]))


def _is_mobile(chars: str) -> bool:
    return len(chars) == 11 and chars.isdigit() and chars[0] == "1" and chars[1] in "3456789"


def _mask_mobile(chars: str) -> str:
    return f"{chars[:3]}****{chars[-4:]}"


def _grouped(lengths: list[int], last: int) -> bool:
    """Several groups form one number when each holds at least 3 characters (the last at
    least ``last``); a single group always may."""
    return len(lengths) == 1 or (min(lengths[:-1]) >= _MIN_GROUP and lengths[-1] >= last)


def _mask(chars: str, lengths: list[int]) -> str | None:
    """The mask of ``chars``, a window of whole groups of ``lengths`` characters, or None
    if it is no ID or mobile number."""
    if _is_id18(chars) or _is_id15(chars):
        return mask_id(chars) if _grouped(lengths, _MIN_LAST_ID_GROUP) else None
    if _is_mobile(chars):
        return _mask_mobile(chars) if _grouped(lengths, _MIN_GROUP) else None
    for prefix in ("86", "0086"):  # a country code in the first group: 86138 1234 5678
        rest, first = chars[len(prefix) :], lengths[0] - len(prefix)
        if chars.startswith(prefix) and _is_mobile(rest) and first > 0:
            return (
                prefix + _mask_mobile(rest)
                if _grouped([first, *lengths[1:]], _MIN_GROUP)
                else None
            )
    return None


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    mask: str


def _windows(groups: list[_Group]) -> list[_Found]:
    """Every run of whole groups joined by the same separators that is a number."""
    found: list[_Found] = []
    for i, first in enumerate(groups):
        chars, lengths = "", list[int]()
        for j in range(i, len(groups)):
            group = groups[j]
            if lengths and (lengths[-1] < _MIN_GROUP or "X" in chars):
                break  # a short group or an X can only end a number
            if group.masked or (len(lengths) > 1 and group.joint != groups[i + 1].joint):
                break  # a mask's digits are no part of one; nor is another separator
            chars += group.chars
            lengths.append(len(group.chars))
            if len(chars) > _MAX_CHARS + chars.endswith("X"):
                break
            if len(chars) < _MIN_CHARS:
                continue
            mask = _mask(chars, lengths)
            end = group.end
            if mask is None and chars.endswith("X"):  # "…5678x": a letter after a mobile
                mask, end = _mask(chars[:-1], [*lengths[:-1], lengths[-1] - 1]), end - 1
            if mask is not None:
                found.append(_Found(first.start, end, mask))
    return found


def _chain_masks(text: str, chain: re.Match[str]) -> list[_Found]:
    groups: list[_Group] = []
    for m in _GROUP.finditer(chain.group()):
        start, end = chain.start() + m.start(), chain.start() + m.end()
        joint = text[groups[-1].end : start] if groups else ""
        masked = text.endswith(_STARS, 0, start) or text.startswith(_STARS, end)
        groups.append(_Group(start, end, _ascii(m.group()), joint, masked))
    # The longest numbers first, then from the left; none overlapping another.
    chosen: list[_Found] = []
    for found in sorted(_windows(groups), key=lambda f: (f.start - f.end, f.start)):
        if all(found.end <= c.start or found.start >= c.end for c in chosen):
            chosen.append(found)
    return chosen


def _find(text: str) -> list[_Found]:
    found: list[_Found] = []
    for chain in _CHAIN.finditer(text):
        if chain.end() - chain.start() >= _MIN_CHARS:
            found.extend(_chain_masks(text, chain))
    return sorted(found, key=lambda f: f.start)


def mask_personal_data(text: str) -> str:
    """Mask ID numbers (3101**********0252) and mobile numbers (138****5678) in ``text``,
    however they are written; everything else is left as written."""
    found = _find(text)
    if not found:
        return text
    parts: list[str] = []
    at = 0
    for f in found:
        parts.append(text[at : f.start])
        parts.append(f.mask)
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


def contains_personal_data(text: str) -> bool:
    """Whether ``text`` holds an ID or mobile number in any of the forms masked."""
    return bool(_find(text))
