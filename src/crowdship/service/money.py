"""Money is integer cents everywhere; this is the one way it is written for people."""

from __future__ import annotations

# The most one order may cost, and so the most any one amount on it (a fee, a courier's
# share, the cash a courier collects) can be. Sums of orders (a settlement run's total, a
# payout, a payout run) are unbounded: every money column is 64 bits (BigInteger), as
# PostgreSQL's INTEGER stops at 2^31 - 1 cents, 215 such orders.
MAX_FEE_CENTS = 10_000_000


def format_money(cents: int, currency: str) -> str:
    """``123456, "EUR"`` -> ``"1,234.56 EUR"``."""
    return f"{cents / 100:,.2f} {currency}"
