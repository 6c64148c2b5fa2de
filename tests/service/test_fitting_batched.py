"""A courier's fitting orders for a trip that carries some (issue 15): the endpoint plans
every candidate's whole route in one compiled call (``routing.extras``); its list is the
one planning each candidate's route on its own (``routing.additions``, what a grab uses)
gives: the same orders in the same order (ties too), the same detours and the same planned
times, to the microsecond; and the answer is that list rounded as every answer is (minutes
to 0.01, times to the second)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.models import Trip
from crowdship.service.schemas import to_the_second
from crowdship.service.workflows import assignment, core_model, routing
from tests.service.conftest import (
    KALLIO,
    KAMPPI,
    PUNAVUORI,
    START,
    TOOLO,
    Party,
    Service,
    order_body,
    trip_body,
)

OPEN_ORDERS = 400


def post(sender: Party, body: dict[str, Any]) -> int:
    answer = sender.post("/orders", json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def open_orders(service: Service, sender_id: int, n: int, seed: int) -> None:
    """``n`` open orders over central Helsinki, straight into the database (as if posted
    earlier), a tenth of them twins of another (same places and times: ties)."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(60.155, 60.195, (n, 2))
    lon = rng.uniform(24.90, 24.98, (n, 2))
    earliest = rng.uniform(0, 150, n)
    window = rng.uniform(30, 180, n)
    twin = rng.random(n) < 0.1
    source = rng.integers(0, n, n)
    rows = []
    for k in range(n):
        j = int(source[k]) if twin[k] else k
        rows.append(
            {
                "sender_id": sender_id,
                "pickup_lat": float(lat[j, 0]),
                "pickup_lon": float(lon[j, 0]),
                "pickup_address": f"p{j}",
                "delivery_lat": float(lat[j, 1]),
                "delivery_lon": float(lon[j, 1]),
                "delivery_address": f"d{j}",
                "earliest_pickup": START + timedelta(minutes=float(earliest[j])),
                "latest_delivery": START + timedelta(minutes=float(earliest[j] + window[j])),
                "size": "small",
                "description": "",
                "receiver_name": "R",
                "receiver_phone": "+358409999999",
                "fee_cents": 500,
                "currency": "EUR",
                "distance_km": 1.0,
                "status": OrderStatus.POSTED,
                "pickup_attempts": 0,
                "delivery_attempts": 0,
                "locked": False,
                "created_at": START,
                "updated_at": START,
            }
        )
    with service.context.db.write() as session:
        session.execute(sa.insert(Order), rows)
        session.commit()


def per_candidate(service: Service, trip_id: int) -> tuple[int, list[Any]]:
    """The list as it was computed before the batched call: the pairs by the core's rule,
    then each candidate's whole route planned on its own, least extra driving first; and
    how many candidates (pairs) there were."""
    context, now = service.context, service.context.clock.now()
    with context.db.read() as session:
        trip = session.get(Trip, trip_id)
        assert trip is not None
        pool = orders.open_orders(session, now)
        _, _, pairs = core_model.feasible([trip], pool, context.travel, now)
        on_trip = orders.on_trips(session, [trip_id])
        assert routing.carried(on_trip)
        candidates = [pool[int(j)] for j in pairs.request]
        fits = routing.additions(trip, on_trip, candidates, context.travel, now)
        fits.sort(key=lambda found: found[1].extra_min)
        return len(candidates), [
            (candidates[k].id, a.extra_min, a.planned_pickup, a.planned_delivery) for k, a in fits
        ]


def batched(service: Service, courier: Party, trip_id: int) -> list[Any]:
    """The endpoint's list before the answer rounds it (minutes to 0.01, times to the
    second): the batched call's own figures."""
    actor = Actor(courier.id, Role.COURIER, "Courier", courier.phone)
    with service.context.db.read() as session:
        fits = assignment.fitting_orders(session, service.context, actor, trip_id, 1000)
    return [(f.order.id, f.detour_min, f.planned_pickup, f.planned_delivery) for f in fits]


def as_answered(fits: list[Any]) -> list[Any]:
    return [
        (order, round(detour, 2), to_the_second(pickup), to_the_second(delivery))
        for order, detour, pickup, delivery in fits
    ]


def answered(courier: Party, trip_id: int, **params: Any) -> list[Any]:
    answer = courier.get(f"/trips/{trip_id}/fitting-orders", params=params)
    assert answer.status_code == 200, answer.text

    def when(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return [
        (f["order"]["id"], f["detour_min"], when(f["planned_pickup"]), when(f["planned_delivery"]))
        for f in answer.json()
    ]


@pytest.mark.parametrize("carrying", [2, 3])
def test_fitting_orders_of_a_loaded_trip_are_those_of_planning_each_candidate(
    service: Service, carrying: int
) -> None:
    """Two orders carried (one picked up: its parcel is on board), or three (a route of
    four orders, the longest)."""
    merchant, courier = service.party("merchant"), service.party("courier")
    made = courier.post("/trips", json={**trip_body(KAMPPI, KALLIO, arrive=60), "capacity": 4})
    assert made.status_code == 201, made.text
    trip_id = int(made.json()["id"])
    # Tight enough that the whole route rules out some orders that fit the trip alone.
    places = [(TOOLO, PUNAVUORI, 45), (PUNAVUORI, KALLIO, 55), (KAMPPI, TOOLO, 60)][:carrying]
    for n, (pickup, delivery, latest) in enumerate(places):
        body = order_body(pickup, delivery, latest=latest, receiver_phone=f"+3584088{n}")
        order_id = post(merchant, body)
        grabbed = courier.post(f"/orders/{order_id}/grab", json={"trip_id": trip_id})
        assert grabbed.status_code == 200, grabbed.text
        if n == 0 and carrying == 2:
            code = {"code": grabbed.json()["pickup_code"]}
            assert merchant.post(f"/orders/{order_id}/pickup", json=code).status_code == 200
    open_orders(service, merchant.id, OPEN_ORDERS, seed=carrying)

    candidates, planned = per_candidate(service, trip_id)
    # The same detours (to ~1e-14 min, numpy's sum) and the same times to the microsecond.
    in_one_call = batched(service, courier, trip_id)
    assert [(o, p, d) for o, _, p, d in in_one_call] == [(o, p, d) for o, _, p, d in planned]
    assert np.allclose([f[1] for f in in_one_call], [f[1] for f in planned], rtol=0, atol=1e-9)
    expected = as_answered(planned)
    got = answered(courier, trip_id, limit=1000)
    # Enough to rank, and the whole route rules some out that fit the trip alone.
    assert 60 <= len(got) < candidates < OPEN_ORDERS
    assert len({detour for _, detour, _, _ in got}) < len(got)  # ties, kept in the pairs' order
    assert got == expected
    assert answered(courier, trip_id) == expected[:50]  # the default limit
    assert answered(courier, trip_id, limit=7) == expected[:7]
