"""The matching job offers exactly an optimal matching: as many pairs as possible, then the
least total detour, checked against an independent computation (the feasibility rule
written out here with plain NumPy, and SciPy's Hungarian solver)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.accounts.service import create_user
from crowdship.service.entities.offers.models import Offer, OfferStatus
from crowdship.service.entities.orders.schemas import OrderCreate
from crowdship.service.entities.trips import service as trips
from crowdship.service.entities.trips.schemas import TripCreate
from crowdship.service.settings import Settings
from crowdship.service.sms import RecordingSms
from crowdship.service.workflows import posting as orders
from crowdship.service.workflows.matching import run_matching
from tests.core.test_matcher import assignment_optimum
from tests.service.conftest import START

SPEED, FACTOR = 30.0, 1.3


def minutes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle minutes, written independently of crowdship.core."""
    lat1, lon1, lat2, lon2 = (np.radians(x) for x in (a[..., 0], a[..., 1], b[..., 0], b[..., 1]))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * 6371.0088 * np.arcsin(np.sqrt(h))
    return km * FACTOR / SPEED * 60


def independent_optimum(trip_rows, order_rows, now):  # type: ignore[no-untyped-def]
    to_min = lambda t: (t - now).total_seconds() / 60  # noqa: E731
    o_t = np.array([[t.origin_lat, t.origin_lon] for t in trip_rows])[:, None, :]
    d_t = np.array([[t.destination_lat, t.destination_lon] for t in trip_rows])[:, None, :]
    ed_t = np.array([to_min(t.earliest_departure) for t in trip_rows])[:, None]
    la_t = np.array([to_min(t.latest_arrival) for t in trip_rows])[:, None]
    o_r = np.array([[o.pickup_lat, o.pickup_lon] for o in order_rows])[None, :, :]
    d_r = np.array([[o.delivery_lat, o.delivery_lon] for o in order_rows])[None, :, :]
    ed_r = np.array([to_min(o.earliest_pickup) for o in order_rows])[None, :]
    la_r = np.array([to_min(o.latest_delivery) for o in order_rows])[None, :]
    pickup = np.maximum(ed_t + minutes(o_t, o_r), ed_r)
    delivery = pickup + minutes(o_r, d_r)
    arrival = delivery + minutes(d_r, d_t)
    ok = (delivery <= la_r + 1e-7) & (arrival <= la_t + 1e-7)
    detour = minutes(o_t, o_r) + minutes(o_r, d_r) + minutes(d_r, d_t) - minutes(o_t, d_t)
    trip, request = np.nonzero(ok)
    units = np.rint(np.maximum(detour[trip, request], 0) * 1000).astype(np.int64)
    return assignment_optimum(len(trip_rows), len(order_rows), trip, request, units)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_offers_are_an_optimal_matching(database_url: str, seed: int) -> None:
    """Count and total detour of the offers equal the independent optimum."""
    migrate(database_url)
    clock = ManualClock(START)
    context = ServiceContext.build(
        Settings(database_url=database_url, secret_key="k" * 40, scheduler=False),
        clock=clock,
        sms=RecordingSms(),
        db=Database(database_url),
    )
    rng = np.random.default_rng(seed)

    def place() -> tuple[float, float]:
        return float(rng.uniform(60.15, 60.21)), float(rng.uniform(24.88, 25.00))

    with context.db.write() as session:
        sender = create_user(
            session, "s@x.dev", "password1", Role.MERCHANT, "S", "+35840111", START
        )
        couriers = [
            create_user(session, f"c{k}@x.dev", "password1", Role.COURIER, "C", "+35840222", START)
            for k in range(8)
        ]
        for courier in couriers:  # onboarded: only assessed couriers get offers
            courier.assessment_passed_at = START
        for k in range(18):
            courier = couriers[k % len(couriers)]
            (o_lat, o_lon), (d_lat, d_lon) = place(), place()
            depart = START + timedelta(minutes=float(rng.uniform(5, 120)))
            trips.create(
                session,
                context,
                Actor(courier.id, Role.COURIER, "C", None),
                TripCreate(
                    origin_lat=o_lat,
                    origin_lon=o_lon,
                    destination_lat=d_lat,
                    destination_lon=d_lon,
                    earliest_departure=depart,
                    latest_arrival=depart + timedelta(minutes=float(rng.uniform(30, 70))),
                ),
            )
        for _ in range(30):
            (p_lat, p_lon), (q_lat, q_lon) = place(), place()
            start = START + timedelta(minutes=float(rng.uniform(0, 120)))
            orders.post(
                session,
                context,
                Actor(sender.id, Role.MERCHANT, "S", None),
                OrderCreate(
                    pickup_lat=p_lat,
                    pickup_lon=p_lon,
                    pickup_address="a",
                    delivery_lat=q_lat,
                    delivery_lon=q_lon,
                    delivery_address="b",
                    earliest_pickup=start,
                    latest_delivery=start + timedelta(minutes=float(rng.uniform(25, 90))),
                    receiver_name="R",
                    receiver_phone="+358409999999",
                ),
            )
        session.commit()

    from crowdship.service.entities.orders.models import Order
    from crowdship.service.entities.trips.models import Trip

    with context.db.read() as session:
        trip_rows = list(session.scalars(select(Trip).order_by(Trip.id)))
        order_rows = list(session.scalars(select(Order).order_by(Order.id)))
    count, cost_units = independent_optimum(trip_rows, order_rows, START)
    assert 0 < count < len(order_rows)  # a real choice: not every order can be served

    run = run_matching(context, "operator")
    assert run is not None
    with context.db.read() as session:
        offers = list(session.scalars(select(Offer).where(Offer.status == OfferStatus.PENDING)))
    assert run.offers == len(offers) == count > 0
    assert len({o.trip_id for o in offers}) == len({o.order_id for o in offers}) == count
    assert abs(sum(o.detour_min for o in offers) * 1000 - cost_units) <= count, (
        sum(o.detour_min for o in offers),
        cost_units / 1000,
    )
    context.db.dispose()


def test_just_in_time_offers_only_what_waiting_could_lose(database_url: str) -> None:
    """With CROWDSHIP_MATCHING_STRATEGY=jit a batch plans the whole pool but offers a pair
    only when its trip departs within the lead, or its order has waited the promised time."""
    from tests.service.conftest import order_body, running_service, trip_body

    with running_service(
        database_url, matching_strategy="jit", jit_lead_min=15, jit_max_wait_min=60
    ) as service:
        operator = service.party("operator")
        shop = service.party("merchant")
        early, late = service.party("courier"), service.party("courier")
        later = late.post("/trips", json=trip_body(depart=90, arrive=200)).json()["id"]
        first = shop.post("/orders", json=order_body(latest=300)).json()["id"]
        # The only trip leaves in 90 minutes: the pair is planned, not offered ...
        assert operator.post("/matching/run").json()["offers"] == 0
        assert shop.get(f"/orders/{first}").json()["status"] == "posted"
        # ... until the order has waited an hour (the answer promised to the sender).
        service.clock.advance(61)
        service.relogin(operator, shop, early, late)
        assert operator.post("/matching/run").json()["offers"] == 1
        offer = late.get("/offers").json()[0]
        assert (offer["order"]["id"], offer["trip_id"]) == (first, later)

        # A trip leaving within the lead has its planned pair offered at once.
        soon = early.post("/trips", json=trip_body(depart=71, arrive=160)).json()["id"]
        second = shop.post("/orders", json=order_body(earliest=61, latest=300)).json()["id"]
        assert operator.post("/matching/run").json()["offers"] == 1
        offer = early.get("/offers").json()[0]
        assert (offer["order"]["id"], offer["trip_id"]) == (second, soon)
