"""Money is integer cents everywhere; this is the one way it is written for people."""

from __future__ import annotations


def format_money(cents: int, currency: str) -> str:
    """``123456, "EUR"`` -> ``"1,234.56 EUR"``."""
    return f"{cents / 100:,.2f} {currency}"
