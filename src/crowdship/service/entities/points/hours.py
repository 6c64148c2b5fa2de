"""Opening hours: a week of local [open, close) intervals. Pure."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Week = dict[int, list[tuple[time, time]]]


def parse(body: dict[str, list[list[str]]]) -> Week:
    """``{"mon": [["08:00", "20:00"]], ...}`` -> weekday -> intervals; ValueError naming the
    day and the problem."""
    week: Week = {}
    for day, intervals in body.items():
        if day not in DAYS:
            raise ValueError(f"{day!r} is not a day (use {', '.join(DAYS)})")
        parsed: list[tuple[time, time]] = []
        for pair in intervals:
            if len(pair) != 2:
                raise ValueError(f"{day}: each interval is [open, close], got {pair}")
            try:
                start, end = time.fromisoformat(pair[0]), time.fromisoformat(pair[1])
            except (TypeError, ValueError) as error:
                raise ValueError(f"{day}: {pair} is not two HH:MM times") from error
            if end <= start:
                raise ValueError(f"{day}: closes at {pair[1]}, not after it opens at {pair[0]}")
            parsed.append((start, end))
        parsed.sort()
        for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
            if start < end:
                raise ValueError(f"{day}: intervals overlap at {start:%H:%M}")
        week[DAYS.index(day)] = parsed
    if not any(week.values()):
        raise ValueError("the point is never open")
    return week


def interval_at(week: Week, moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The opening interval (as aware datetimes) that contains ``moment``, if any."""
    local = moment.astimezone(zone)
    for start, end in week.get(local.weekday(), []):
        if start <= local.time() < end:
            day = local.date()
            return (
                datetime.combine(day, start, tzinfo=zone),
                datetime.combine(day, end, tzinfo=zone),
            )
    return None


def describe(week: Week) -> str:
    parts = []
    for day in range(7):
        if week.get(day):
            spans = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in week[day])
            parts.append(f"{DAYS[day].capitalize()} {spans}")
    return "; ".join(parts)


def arrival_problem(week: Week, zone: ZoneInfo, earliest: datetime, latest: datetime) -> str | None:
    """None if every arrival time in [earliest, latest] falls while the point is open
    (within one opening interval); otherwise why not, in local time."""
    interval = interval_at(week, earliest, zone)
    if interval is not None and latest < interval[1]:
        return None
    e, lt = earliest.astimezone(zone), latest.astimezone(zone)
    span = (
        f"a courier may arrive between {e:%a %H:%M} and {lt:%a %H:%M} ({zone.key})"
        if latest - earliest < timedelta(days=6)
        else f"a courier may arrive from {e:%Y-%m-%d %H:%M} to {lt:%Y-%m-%d %H:%M}"
    )
    return f"{span}, but the point is open {describe(week)}; choose a window inside one opening"
