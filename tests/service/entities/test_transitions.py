"""The entities' transition doors on a real (SQLite) database: each status change is one
compare-and-set guarded by its table, and a batch is all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crowdship.service.clock import ManualClock
from crowdship.service.context import ServiceContext
from crowdship.service.db import Database, migrate
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.lifecycle import TRANSITIONS as OFFER_TABLE
from crowdship.service.entities.offers.lifecycle import OfferAction
from crowdship.service.entities.offers.models import Offer, OfferStatus
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import TRANSITIONS as ORDER_TABLE
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips.lifecycle import TRANSITIONS as TRIP_TABLE
from crowdship.service.entities.trips.lifecycle import TripAction
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.errors import Conflict
from crowdship.service.settings import Settings
from tests.service.books import deliver_orders, make_people

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def context(tmp_path: Path) -> ServiceContext:
    url = f"sqlite:///{tmp_path / 'doors.db'}"
    migrate(url)
    settings = Settings(
        database_url=url,
        secret_key="doors-secret-key-that-is-long-enough-0123456789",
        scheduler=False,
    )
    return ServiceContext.build(settings, clock=ManualClock(NOW), db=Database(url))


def test_tables_cover_every_action():
    """Every action of each entity has a row in its table (a new action needs a rule)."""
    assert set(TRIP_TABLE) == set(TripAction)
    assert set(OFFER_TABLE) == set(OfferAction)
    assert set(ORDER_TABLE) == set(Action) - {Action.POST}  # posting creates, it moves nothing


def test_trip_door_moves_only_from_its_source_states(context: ServiceContext):
    _, couriers, _ = make_people(context, 1, 0, NOW)
    with context.db.write() as session:
        trip = trips.add(
            session,
            Trip(
                courier_id=couriers[0],
                origin_lat=60.17,
                origin_lon=24.93,
                destination_lat=60.18,
                destination_lon=24.95,
                earliest_departure=NOW + timedelta(hours=1),
                latest_arrival=NOW + timedelta(hours=2),
                status=TripStatus.OPEN,
                created_at=NOW,
                updated_at=NOW,
            ),
        )
        assert trips.transition(session, trip.id, TripAction.ASSIGN, NOW)
        # A trip that carries an order may take another (its route decides, issue 15).
        assert trips.transition(session, trip.id, TripAction.ASSIGN, NOW)
        assert trips.transition(session, trip.id, TripAction.CANCEL, NOW)  # assigned -> cancelled
        status = session.scalar(select(Trip.status).where(Trip.id == trip.id))
        assert status == TripStatus.CANCELLED
        assert not trips.transition(session, trip.id, TripAction.RELEASE, NOW)
        assert not trips.transition(session, trip.id, TripAction.ASSIGN, NOW)  # cancelled


def test_order_batch_is_all_or_nothing(context: ServiceContext):
    """settle's batch door: if one order is no longer delivered, none moves, no event."""
    sender, couriers, _ = make_people(context, 2, 0, NOW)
    ids = deliver_orders(context, sender, couriers, NOW - timedelta(days=1), 3, seed=1)
    with context.db.write() as session:
        orders.transition(session, ids[1], Action.DISPUTE, None, NOW)
        with pytest.raises(Conflict, match="1 of 3 orders left delivered"):
            orders.transition_many(
                session, [orders.Change(i) for i in ids], Action.SETTLE, None, NOW
            )
        session.rollback()
        statuses = set(session.scalars(select(Order.status).where(Order.id.in_(ids))))
        assert statuses == {OrderStatus.DELIVERED}
        orders.transition_many(
            session,
            [orders.Change(i, note="run 7") for i in ids],
            Action.SETTLE,
            None,
            NOW,
            settled_at=NOW,
        )
        events = session.scalars(select(OrderEvent).where(OrderEvent.action == "settle")).all()
        assert sorted(e.order_id for e in events) == sorted(ids)
        assert {(e.from_status, e.to_status, e.note) for e in events} == {
            (OrderStatus.DELIVERED, OrderStatus.SETTLED, "run 7")
        }


def test_batch_door_refuses_actions_with_several_sources(context: ServiceContext):
    with context.db.write() as session, pytest.raises(ValueError, match="several source"):
        orders.transition_many(session, [orders.Change(1)], Action.CANCEL, None, NOW)


def test_offer_door_take_back_leaves_accepted_offers(context: ServiceContext):
    """Taking pending offers back never touches an accepted one (a courier's reliability
    counts accepted offers); withdrawing touches only the accepted one."""
    sender, couriers, _ = make_people(context, 1, 0, NOW)
    order_ids = deliver_orders(context, sender, couriers, NOW, 2, seed=2)
    with context.db.write() as session:
        trip_ids = [o.trip_id for o in orders.by_ids(session, order_ids).values()]
        for order_id, trip_id in zip(order_ids, trip_ids, strict=True):
            session.add(
                Offer(
                    order_id=order_id,
                    trip_id=trip_id,
                    courier_id=couriers[0],
                    status=OfferStatus.PENDING,
                    detour_min=1.0,
                    planned_pickup=NOW,
                    planned_delivery=NOW,
                    created_at=NOW,
                    expires_at=NOW + timedelta(minutes=10),
                )
            )
        session.flush()
        first, second = session.scalars(select(Offer.id).order_by(Offer.id)).all()
        assert offers.transition(session, first, OfferAction.ACCEPT, NOW)
        assert not offers.transition(session, first, OfferAction.REJECT, NOW)
        taken = offers.transition_many(session, OfferAction.TAKE_BACK, NOW, courier_id=couriers[0])
        assert [t.offer_id for t in taken] == [second]
        withdrawn = offers.transition_many(
            session, OfferAction.WITHDRAW, NOW, courier_id=couriers[0]
        )
        assert [w.offer_id for w in withdrawn] == [first]
        assert set(session.scalars(select(Offer.status))) == {OfferStatus.WITHDRAWN}
