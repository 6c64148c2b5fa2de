"""The living demo (issue 17): the simulator's day played on the service. Over a few hours
of service time, simulated senders post, simulated couriers answer offers with the paper's
response model, pick up and deliver; the people a person plays are never touched."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.demo import seed
from crowdship.service.demo_city import PEOPLE, LiveCity
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.scheduler import tick
from crowdship.service.settings import Settings
from crowdship.service.sms import RecordingSms
from crowdship.service.workflows.invariants import check
from crowdship.service.workflows.matching import run_matching

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # a Tuesday morning


@pytest.fixture
def city(database_url: str):
    migrate(database_url)
    clock = ManualClock(START)
    sms = RecordingSms()
    settings = Settings(
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        scheduler=False,
        planning_interval_min=10.0,
    )
    context = ServiceContext.build(settings, clock=clock, sms=sms, db=Database(database_url))
    seed(context)
    run_matching(context, "operator")
    living = LiveCity(context, sms, seed=3)
    living.cast()
    yield living, clock, context
    context.db.dispose()


def test_the_day_is_drawn_by_the_simulator_inside_the_demo_city(city):
    living, _clock, _context = city
    assert len(living.day.orders) >= 50 and len(living.day.trips) >= 40
    for planned in living.day.orders:
        order = planned.what
        assert START <= planned.at <= order.earliest_pickup < order.latest_delivery
        assert 60.155 <= order.pickup_lat <= 60.200 and 24.9 <= order.delivery_lon <= 24.98
    # Nobody a person signs in as is cast.
    with living.context.db.read() as session:
        people = {accounts.by_email(session, email).id for email in PEOPLE}
    assert not people & living.played
    assert not people & {p.who for p in living.day.orders + living.day.trips}


def test_the_city_moves_through_the_day(city):
    living, clock, context = city
    with context.db.read() as session:
        people = {accounts.by_email(session, email).id for email in PEOPLE}
    for _ in range(4 * 60 // 3):  # four hours in three-minute steps
        clock.advance(3)
        tick(context)
        living.step()
    tally = living.tally
    assert tally.posted >= 20 and tally.trips >= 20
    assert tally.accepted >= 10 and tally.rejected >= 1  # the paper's model says no sometimes
    assert tally.picked_up >= 5 and tally.delivered >= 5
    with context.db.read() as session:
        delivered = session.query(Order).filter(Order.status == OrderStatus.DELIVERED).all()
        assert all(o.courier_id in living.played for o in delivered)
        # Whatever a person does is left to them: after the seeding, nothing is done in
        # their name.
        actors = {e.actor_id for e in session.query(OrderEvent).filter(OrderEvent.at > START)}
        # Couriers with room for two or three (issue 15) took a second parcel on a trip.
        taken = Counter(
            e.trip_id
            for e in session.query(OrderEvent).filter(OrderEvent.action.in_(("accept", "grab")))
        )
    assert not actors & people
    assert max(taken.values()) >= 2, taken
    with context.db.snapshot() as session:
        verdict = check(session)
    assert verdict.ok, verdict.violations
