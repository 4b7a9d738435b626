"""How the rules write dates and money in Chinese messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def cn_date(day: dt.date) -> str:
    """2023-07-01 -> 2023年7月1日."""
    return f"{day.year}年{day.month}月{day.day}日"


def yuan(amount: Decimal) -> str:
    """Yuan without trailing zeros: 180 -> "180", 27.50 -> "27.5", 0.05 -> "0.05"."""
    text = f"{amount.quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(ratio: Decimal) -> str:
    """0.75 -> "75%", 0.1 -> "10%"."""
    return f"{yuan(ratio * 100)}%"
