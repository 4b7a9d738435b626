"""Personal data in free text: ID and mobile numbers are masked before anything is kept."""

from __future__ import annotations

import re

from rules.ids import mask_id

_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# Full-width digits and x are read as ASCII; the rest of the text is left as written.
_WIDE = str.maketrans("０１２３４５６７８９ＸｘX", "0123456789XxX")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    """Mask ID numbers (3101**********0252) and mobile numbers (138****5678) in ``text``."""
    text = text.translate(_WIDE)
    text = _ID_LIKE.sub(lambda m: mask_id(m.group(1).upper()), text)
    return _MOBILE.sub(r"\1****\2", text)
