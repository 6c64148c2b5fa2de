"""What the operator's console shows: today's figures and the city's trips and orders."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.incidents import repository as incidents
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips.models import TripStatus
from crowdship.service.schemas import Minutes


class DayKpis(BaseModel):
    """Today (in the service's time zone) so far."""

    day: str
    orders: int
    matched: int
    match_rate: float | None  # matched / orders
    mean_detour_min: Minutes | None = Field(
        description="over offers accepted today; minutes, to 2 decimals"
    )
    median_minutes_to_match: Minutes | None = Field(
        description="from posting to acceptance; minutes, to 2 decimals"
    )
    delivered: int
    on_time_rate: float | None  # delivered by latest_delivery / delivered
    open_incidents: int
    by_status: dict[str, int]
    offers: dict[str, int]  # made today, by what became of them


class MapTrips(BaseModel):
    """Trips as columns (the i-th trip is the i-th entry of each); ``lines`` holds four
    numbers per trip: origin lat, lon, destination lat, lon. Columns keep 10000 trips small
    and quick to read."""

    id: list[int]
    courier_id: list[int]
    status: list[TripStatus]
    earliest_departure: list[datetime]
    latest_arrival: list[datetime]
    lines: list[float]


class MapOrders(BaseModel):
    """Orders as columns; ``lines``: pickup lat, lon, delivery lat, lon per order."""

    id: list[int]
    status: list[OrderStatus]
    trip_id: list[int | None]
    latest_delivery: list[datetime]
    lines: list[float]


class CityMap(BaseModel):
    trips: MapTrips
    orders: MapOrders


def _today(context: ServiceContext) -> tuple[str, datetime, datetime]:
    local = context.clock.now().astimezone(context.settings.zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.date().isoformat(), start, start + timedelta(days=1)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def kpis(session: Session, context: ServiceContext) -> DayKpis:
    day, start, end = _today(context)
    figures = orders.day_figures(session, start, end)
    detours = offers.accepted_detours(session, start, end)
    return DayKpis(
        day=day,
        orders=figures.posted,
        matched=figures.matched,
        match_rate=_share(figures.matched, figures.posted),
        mean_detour_min=statistics.fmean(detours) if detours else None,
        median_minutes_to_match=(
            statistics.median(figures.minutes_to_match) if figures.minutes_to_match else None
        ),
        delivered=figures.delivered,
        on_time_rate=_share(figures.on_time, figures.delivered),
        open_incidents=incidents.open_count(session),
        by_status=figures.by_status,
        offers=offers.answers_between(session, start, end),
    )


def city(session: Session, context: ServiceContext, limit: int) -> CityMap:
    """Trips not yet arrived and unfinished orders (plus those finished in the last hour)."""
    since = context.clock.now() - timedelta(hours=1)
    t = trips.map_rows(session, since, limit)
    o = orders.map_rows(session, since, limit)
    return CityMap(
        trips=MapTrips(
            id=[r.id for r in t],
            courier_id=[r.courier_id for r in t],
            status=[r.status for r in t],
            earliest_departure=[r.earliest_departure for r in t],
            latest_arrival=[r.latest_arrival for r in t],
            lines=_flat(
                (r.origin_lat, r.origin_lon, r.destination_lat, r.destination_lon) for r in t
            ),
        ),
        orders=MapOrders(
            id=[r.id for r in o],
            status=[r.status for r in o],
            trip_id=[r.trip_id for r in o],
            latest_delivery=[r.latest_delivery for r in o],
            lines=_flat((r.pickup_lat, r.pickup_lon, r.delivery_lat, r.delivery_lon) for r in o),
        ),
    )


def _flat(rows: Iterable[tuple[float, float, float, float]]) -> list[float]:
    # Five decimals of a degree are about a metre: plenty for a map, and a third shorter.
    return [round(v, 5) for row in rows for v in row]


class Rules(BaseModel):
    """The service's timing rules the pages count down against."""

    withdraw_window_min: float
    offer_ttl_min: float
    planning_interval_min: float
    max_code_attempts: int
    currency: str
    timezone: str
    now: datetime  # service time (a demo clock may run fast)
    clock_speed: float
    calls: bool  # masked calls between an order's parties are available


def rules(context: ServiceContext) -> Rules:
    s = context.settings
    return Rules(
        withdraw_window_min=s.withdraw_window_min,
        offer_ttl_min=s.offer_ttl_min,
        planning_interval_min=s.planning_interval_min,
        max_code_attempts=s.max_code_attempts,
        currency=s.currency,
        timezone=s.timezone,
        now=context.clock.now(),
        clock_speed=s.clock_speed,
        calls=s.telephony_provider != "none",
    )
