"""What the operator's console shows: today's figures and the city's trips and orders."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.incidents import repository as incidents
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips.models import TripStatus


class DayKpis(BaseModel):
    """Today (in the service's time zone) so far."""

    day: str
    orders: int
    matched: int
    match_rate: float | None  # matched / orders
    mean_detour_min: float | None  # over offers accepted today
    median_minutes_to_match: float | None
    delivered: int
    on_time_rate: float | None  # delivered by latest_delivery / delivered
    open_incidents: int
    by_status: dict[str, int]
    offers: dict[str, int]  # made today, by what became of them


class MapTrip(BaseModel):
    id: int
    courier_id: int
    status: TripStatus
    origin: tuple[float, float]
    destination: tuple[float, float]
    earliest_departure: datetime
    latest_arrival: datetime


class MapOrder(BaseModel):
    id: int
    status: OrderStatus
    pickup: tuple[float, float]
    delivery: tuple[float, float]
    trip_id: int | None
    latest_delivery: datetime


class CityMap(BaseModel):
    trips: list[MapTrip]
    orders: list[MapOrder]


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
        mean_detour_min=round(statistics.fmean(detours), 2) if detours else None,
        median_minutes_to_match=(
            round(statistics.median(figures.minutes_to_match), 1)
            if figures.minutes_to_match
            else None
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
    return CityMap(
        trips=[
            MapTrip(
                id=t.id,
                courier_id=t.courier_id,
                status=t.status,
                origin=(t.origin_lat, t.origin_lon),
                destination=(t.destination_lat, t.destination_lon),
                earliest_departure=t.earliest_departure,
                latest_arrival=t.latest_arrival,
            )
            for t in trips.on_map(session, since, limit)
        ],
        orders=[
            MapOrder(
                id=o.id,
                status=o.status,
                pickup=(o.pickup_lat, o.pickup_lon),
                delivery=(o.delivery_lat, o.delivery_lon),
                trip_id=o.trip_id,
                latest_delivery=o.latest_delivery,
            )
            for o in orders.on_map(session, since, limit)
        ],
    )


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
    )
