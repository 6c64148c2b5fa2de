"""Settlement days and payout dates. Pure.

A settlement day is a calendar day in the deployment's time zone. Orders delivered on day D
are paid out on D + delay: calendar days by default (T+2), or business days (Monday to
Friday) when the setting says so; then a payout that would fall on a weekend moves to the
next business day and only business days count."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def payout_date(day: date, delay: int = 2, business_days: bool = False) -> date:
    if not business_days:
        return day + timedelta(days=delay)
    due = day
    counted = 0
    while counted < delay:
        due += timedelta(days=1)
        if due.weekday() < 5:
            counted += 1
    while due.weekday() >= 5:  # delay 0 on a weekend: the next Monday
        due += timedelta(days=1)
    return due


def day_end_utc(day: date, zone: ZoneInfo) -> datetime:
    """The first instant after local day ``day``, in UTC (DST-safe)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
