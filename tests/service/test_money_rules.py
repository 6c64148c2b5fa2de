"""The pure money and time rules: the tariff, T+2 payout dates, opening hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdship.service.entities.ledger.calendar import day_end_utc, payout_date
from crowdship.service.entities.points import hours
from crowdship.service.entities.pricing.tariff import ParcelDraft, PeakWindow, Tariff, haversine_km

HELSINKI = ZoneInfo("Europe/Helsinki")


def draft(start: datetime, window_min: float, size: str = "small") -> ParcelDraft:
    return ParcelDraft(
        pickup=(60.1690, 24.9320),
        delivery=(60.1841, 24.9500),
        earliest_pickup=start,
        latest_delivery=start + timedelta(minutes=window_min),
        size=size,
    )


def test_fee_adds_base_distance_size_urgency_then_peak() -> None:
    tariff = Tariff(
        base_cents=300,
        per_km_cents=60,
        size_surcharge_cents={"small": 0, "medium": 150, "large": 400},
        urgent_window_min=120,
        urgent_surcharge_cents=200,
        peak_multiplier=1.5,
        peak_windows=(PeakWindow(time(7), time(9)),),
        courier_share_pct=80,
    )
    km = haversine_km((60.1690, 24.9320), (60.1841, 24.9500)) * 1.3
    distance = round(km * 60)
    # Monday 10:00 Helsinki (off peak), a relaxed window, a small parcel.
    calm = tariff.quote(draft(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 240), HELSINKI, 1.3)
    assert calm.breakdown == {"base": 300, "distance": distance, "size": 0, "urgency": 0, "peak": 0}
    assert calm.fee_cents == 300 + distance
    # Monday 08:00 Helsinki (06:00 UTC, peak), 60-minute window, a large parcel.
    rush = tariff.quote(
        draft(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), 60, "large"), HELSINKI, 1.3, version=7
    )
    subtotal = 300 + distance + 400 + 200
    assert rush.breakdown["peak"] == int(subtotal * 0.5 + 0.5)  # half up
    assert rush.fee_cents == subtotal + rush.breakdown["peak"] == sum(rush.breakdown.values())
    assert rush.courier_cents + rush.platform_cents == rush.fee_cents
    assert rush.courier_cents == int(rush.fee_cents * 0.8 + 0.5)
    assert rush.tariff_version == 7
    # Saturday 08:00: the default peak windows are weekdays only.
    weekend = tariff.quote(draft(datetime(2026, 11, 28, 6, 0, tzinfo=UTC), 240), HELSINKI, 1.3)
    assert weekend.breakdown["peak"] == 0


@given(
    share=st.floats(0, 100, allow_nan=False),
    base=st.integers(0, 100_000),
    per_km=st.integers(0, 1000),
    window=st.floats(1, 2000),
    size=st.sampled_from(["small", "medium", "large"]),
)
def test_the_parts_always_add_up(
    share: float, base: int, per_km: int, window: float, size: str
) -> None:
    tariff = Tariff(base_cents=base, per_km_cents=per_km, courier_share_pct=share)
    q = tariff.quote(draft(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), window, size), HELSINKI, 1.3)
    assert q.fee_cents == sum(q.breakdown.values())
    assert q.courier_cents + q.platform_cents == q.fee_cents
    assert 0 <= q.courier_cents <= q.fee_cents


def test_a_bad_tariff_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="peak_multiplier must be >= 1"):
        Tariff(peak_multiplier=0.5)
    with pytest.raises(ValueError, match="size_surcharge_cents needs exactly"):
        Tariff(size_surcharge_cents={"small": 0})
    body = Tariff().to_json()
    assert Tariff.from_json(body) == Tariff()


@pytest.mark.parametrize(
    ("day", "business", "due"),
    [
        (date(2026, 1, 30), False, date(2026, 2, 1)),  # month end
        (date(2026, 2, 27), False, date(2026, 3, 1)),  # February, not a leap year
        (date(2028, 2, 27), False, date(2028, 2, 29)),  # leap year
        (date(2026, 12, 31), False, date(2027, 1, 2)),  # year end
        (date(2026, 11, 27), False, date(2026, 11, 29)),  # Friday -> Sunday (calendar days)
        (date(2026, 11, 27), True, date(2026, 12, 1)),  # Friday -> Tuesday (business days)
        (date(2026, 11, 26), True, date(2026, 11, 30)),  # Thursday -> Monday
        (date(2026, 11, 28), True, date(2026, 12, 1)),  # Saturday -> Tuesday
        (date(2026, 11, 29), True, date(2026, 12, 1)),  # Sunday -> Tuesday
        (date(2026, 11, 23), True, date(2026, 11, 25)),  # Monday -> Wednesday
        (date(2026, 4, 29), True, date(2026, 5, 1)),  # across a month end
        (date(2026, 12, 31), True, date(2027, 1, 4)),  # Thursday 31 Dec -> Monday 4 Jan
    ],
)
def test_t_plus_2(day: date, business: bool, due: date) -> None:
    assert payout_date(day, 2, business) == due


@given(
    day=st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    delay=st.integers(0, 10),
)
def test_payout_dates_count_the_right_days(day: date, delay: int) -> None:
    assert payout_date(day, delay, False) == day + timedelta(days=delay)
    due = payout_date(day, delay, True)
    assert due.weekday() < 5
    between = [day + timedelta(days=k) for k in range(1, (due - day).days + 1)]
    if delay > 0:  # exactly `delay` business days after the day, ending on one
        assert sum(1 for d in between if d.weekday() < 5) == delay
    else:  # the day itself, or the Monday after a weekend
        assert due == day if day.weekday() < 5 else due.weekday() == 0 and len(between) <= 2


def test_a_settlement_day_ends_at_local_midnight_across_dst() -> None:
    # Helsinki leaves summer time on 25 Oct 2026: that day has 25 hours.
    assert day_end_utc(date(2026, 10, 24), HELSINKI) == datetime(2026, 10, 24, 21, tzinfo=UTC)
    assert day_end_utc(date(2026, 10, 25), HELSINKI) == datetime(2026, 10, 25, 22, tzinfo=UTC)


def test_opening_hours() -> None:
    week = hours.parse(
        {"mon": [["08:00", "12:00"], ["13:00", "20:00"]], "sat": [["10:00", "14:00"]]}
    )
    monday = datetime(2026, 11, 23, tzinfo=HELSINKI)
    inside = hours.arrival_problem(
        week, HELSINKI, monday.replace(hour=13, minute=30), monday.replace(hour=19)
    )
    assert inside is None
    across_lunch = hours.arrival_problem(
        week, HELSINKI, monday.replace(hour=11), monday.replace(hour=14)
    )
    assert across_lunch is not None and "Mon 08:00-12:00, 13:00-20:00" in across_lunch
    closed_day = hours.arrival_problem(
        week, HELSINKI, monday.replace(day=24, hour=9), monday.replace(day=24, hour=10)
    )
    assert closed_day is not None
    for bad, message in [
        ({"monday": [["08:00", "12:00"]]}, "is not a day"),
        ({"mon": [["12:00", "08:00"]]}, "not after it opens"),
        ({"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
        ({"mon": [["8 am", "12:00"]]}, "not two HH:MM times"),
        ({"mon": []}, "never open"),
    ]:
        with pytest.raises(ValueError, match=message):
            hours.parse(bad)
