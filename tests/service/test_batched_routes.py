"""The matching job's re-planning of trips that carry orders (issue 15): one compiled call
for the whole batch (``routing.extras``) answers exactly what planning each trip's whole
route again per candidate does (``routing.additions``, what a grab or an offer by hand
uses): the same orders fit, at the same extra driving and planned times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.travel import GreatCircleTravel
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.workflows import core_model, routing

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TRAVEL = GreatCircleTravel()


def point(rng: np.random.Generator) -> tuple[float, float]:
    return float(rng.uniform(60.15, 60.21)), float(rng.uniform(24.88, 25.00))


def order(rng: np.random.Generator, k: int, status: OrderStatus, trip: Trip | None) -> Order:
    (plat, plon), (dlat, dlon) = point(rng), point(rng)
    earliest = NOW + timedelta(minutes=float(rng.uniform(-20, 60)))
    picked = status == OrderStatus.PICKED_UP
    return Order(
        id=k,
        pickup_lat=plat,
        pickup_lon=plon,
        pickup_address=f"p{k}",
        delivery_lat=dlat,
        delivery_lon=dlon,
        delivery_address=f"d{k}",
        earliest_pickup=earliest,
        latest_delivery=earliest + timedelta(minutes=float(rng.uniform(30, 150))),
        status=status,
        trip_id=None if trip is None else trip.id,
        # A pickup after the trip's departure moves the route's start there.
        picked_up_at=NOW + timedelta(minutes=float(rng.uniform(-5, 25))) if picked else None,
        delivered_at=None,
    )


def instance(seed: int) -> tuple[list[Trip], list[list[Order]], list[Order]]:
    rng = np.random.default_rng(seed)
    trips, on_trips, k = [], [], 1000
    for i in range(int(rng.integers(1, 5))):
        (olat, olon), (dlat, dlon) = point(rng), point(rng)
        depart = NOW + timedelta(minutes=float(rng.uniform(-10, 20)))
        trip = Trip(
            id=i + 1,
            courier_id=1,
            origin_lat=olat,
            origin_lon=olon,
            destination_lat=dlat,
            destination_lon=dlon,
            origin_address="o",
            destination_address="d",
            earliest_departure=depart,
            latest_arrival=depart + timedelta(minutes=float(rng.uniform(20, 200))),
            capacity=int(rng.integers(1, 5)),
            status=TripStatus.ASSIGNED,
        )
        load = []
        for _ in range(int(rng.integers(0, trip.capacity + 1))):
            status = rng.choice(
                [OrderStatus.ACCEPTED, OrderStatus.PICKED_UP, OrderStatus.DELIVERED]
            )
            load.append(order(rng, k, OrderStatus(status), trip))
            if status == OrderStatus.DELIVERED:
                load[-1].delivered_at = NOW + timedelta(minutes=float(rng.uniform(-5, 25)))
            k += 1
        trips.append(trip)
        on_trips.append(load)
    candidates = [order(rng, 5000 + j, OrderStatus.POSTED, None) for j in range(8)]
    return trips, on_trips, candidates


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_the_batched_re_planning_answers_what_planning_each_candidate_does(seed: int) -> None:
    trips, on_trips, candidates = instance(seed)
    pair_trip = np.repeat(np.arange(len(trips)), len(candidates))
    pair_request = np.tile(np.arange(len(candidates)), len(trips))
    requests = core_model.core_requests(candidates, NOW)
    found = routing.extras(
        trips, on_trips, candidates, requests, pair_trip, pair_request, TRAVEL, NOW
    )
    for i, trip in enumerate(trips):
        expected = dict(routing.additions(trip, on_trips[i], candidates, TRAVEL, NOW))
        rows = range(i * len(candidates), (i + 1) * len(candidates))
        assert {k for k, row in enumerate(rows) if found.fits[row]} == set(expected)
        for k, addition in expected.items():
            row = rows[k]
            assert abs(found.extra_min[row] - addition.extra_min) < 1e-9
            pickup = core_model.at_minutes(NOW, found.pickup[row])
            delivery = core_model.at_minutes(NOW, found.delivery[row])
            assert abs((pickup - addition.planned_pickup).total_seconds()) < 1e-3
            assert abs((delivery - addition.planned_delivery).total_seconds()) < 1e-3
