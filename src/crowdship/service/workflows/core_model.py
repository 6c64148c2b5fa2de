"""From database rows to the core's column arrays, and back to datetimes.

The core counts minutes after a reference time; the service uses UTC datetimes. Each call
picks the reference (the clock's now), so minutes stay small and exact enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from crowdship.core import Requests, TravelModel, Trips
from crowdship.core.feasibility import DirectTimes, FeasiblePairs, check_pairs, feasible_pairs
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.models import Trip


def minutes_after(ref: datetime, values: Sequence[datetime]) -> np.ndarray:
    return np.array([(v - ref).total_seconds() / 60.0 for v in values], dtype=np.float64)


def at_minutes(ref: datetime, minutes: float) -> datetime:
    return ref + timedelta(minutes=float(minutes))


def core_trips(
    trips: Sequence[Trip], ref: datetime, rating: dict[int, float] | None = None
) -> Trips:
    """``rating``: courier id -> score in [1, 5] for the cost's rating term."""
    return Trips.from_columns(
        ids=[str(t.id) for t in trips],
        origin=[(t.origin_lat, t.origin_lon) for t in trips],
        destination=[(t.destination_lat, t.destination_lon) for t in trips],
        earliest_departure=minutes_after(ref, [t.earliest_departure for t in trips]),
        latest_arrival=minutes_after(ref, [t.latest_arrival for t in trips]),
        courier=[str(t.courier_id) for t in trips],
        rating=None if rating is None else [rating[t.courier_id] for t in trips],
    )


def core_requests(orders: Sequence[Order], ref: datetime) -> Requests:
    return Requests.from_columns(
        ids=[str(o.id) for o in orders],
        pickup=[(o.pickup_lat, o.pickup_lon) for o in orders],
        delivery=[(o.delivery_lat, o.delivery_lon) for o in orders],
        earliest_pickup=minutes_after(ref, [o.earliest_pickup for o in orders]),
        latest_delivery=minutes_after(ref, [o.latest_delivery for o in orders]),
        sender=[str(o.sender_id) for o in orders],
    )


def feasible(
    trips: Sequence[Trip], orders: Sequence[Order], travel: TravelModel, ref: datetime
) -> tuple[Trips, Requests, FeasiblePairs]:
    """Every feasible (trip, order) pair by the core's exact rule and index."""
    core_t, core_r = core_trips(trips, ref), core_requests(orders, ref)
    direct = DirectTimes.of(core_t, core_r, travel)
    return core_t, core_r, feasible_pairs(core_t, core_r, travel, direct)


def check_one(trip: Trip, order: Order, travel: TravelModel, ref: datetime) -> FeasiblePairs:
    """The exact rule on one pair (empty result when infeasible)."""
    core_t, core_r = core_trips([trip], ref), core_requests([order], ref)
    direct = DirectTimes.of(core_t, core_r, travel)
    zero = np.zeros(1, dtype=np.int64)
    return check_pairs(core_t, core_r, travel, direct, zero, zero)


def why_not(trip: Trip, order: Order, travel: TravelModel) -> str:
    """Which part of the rule a (trip, order) pair breaks, in words with the times: leave
    the origin at the earliest departure, drive to the pickup, wait for the parcel if early,
    deliver by its latest delivery, reach the destination by the latest arrival."""
    origin = (trip.origin_lat, trip.origin_lon)
    pickup = (order.pickup_lat, order.pickup_lon)
    drop = (order.delivery_lat, order.delivery_lon)
    end = (trip.destination_lat, trip.destination_lon)
    at_pickup = max(
        trip.earliest_departure + timedelta(minutes=travel.minutes(origin, pickup)),
        order.earliest_pickup,
    )
    delivered = at_pickup + timedelta(minutes=travel.minutes(pickup, drop))
    arrival = delivered + timedelta(minutes=travel.minutes(drop, end))
    if delivered > order.latest_delivery:
        return (
            f"leaving at {trip.earliest_departure:%H:%M} UTC, trip {trip.id} would deliver "
            f"order {order.id} at {delivered:%H:%M}, after its latest delivery "
            f"{order.latest_delivery:%H:%M}"
        )
    if arrival > trip.latest_arrival:
        late = (arrival - trip.latest_arrival).total_seconds() / 60.0
        return (
            f"with order {order.id}, trip {trip.id} would reach its destination at "
            f"{arrival:%H:%M} UTC, {late:.0f} min after its latest arrival "
            f"{trip.latest_arrival:%H:%M}"
        )
    return f"trip {trip.id} cannot carry order {order.id} within both time windows"
