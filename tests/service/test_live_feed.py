"""Who hears what on the live feed (issue 17): the operator everything; a sender only their
orders; a courier the orders that concern them and, without detail, that the pool changed;
staff the orders passing their point; a tracking link its one order."""

from __future__ import annotations

from datetime import UTC, datetime

from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders.repository import Happening
from crowdship.service.workflows.live import Subscriber, visible_to

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def happening(**changes: object) -> Happening:
    values: dict[str, object] = {
        "id": 7,
        "order_id": 3,
        "at": AT,
        "action": "accept",
        "from_status": "offered",
        "to_status": "accepted",
        "status": "accepted",
        "sender_id": 10,
        "courier_ids": frozenset({20}),
        "receiver_phone": "+358401111111",
        "point_ids": frozenset(),
    }
    values.update(changes)
    return Happening(**values)  # type: ignore[arg-type]


def actor(role: Role, user_id: int, point_id: int | None = None) -> Actor:
    return Actor(id=user_id, role=role, name="x", phone=None, point_id=point_id)


def test_the_operator_hears_everything():
    assert visible_to(actor(Role.OPERATOR, 1), happening())["order_id"] == 3


def test_a_sender_hears_only_their_orders():
    assert visible_to(actor(Role.MERCHANT, 10), happening())["status"] == "accepted"
    assert visible_to(actor(Role.CUSTOMER, 11), happening()) is None


def test_a_courier_hears_their_orders_and_only_that_the_pool_changed():
    mine = visible_to(actor(Role.COURIER, 20), happening())
    assert mine is not None and mine["kind"] == "order"
    other = actor(Role.COURIER, 21)
    assert visible_to(other, happening()) is None  # someone else's order, not the pool
    posted = happening(action="post", from_status=None, to_status="posted", status="posted")
    assert visible_to(other, posted) == {"kind": "pool", "id": 7, "order_id": 3}


def test_staff_hear_the_orders_passing_their_point():
    at_point = happening(point_ids=frozenset({5}))
    assert visible_to(actor(Role.STAFF, 30, point_id=5), at_point) is not None
    assert visible_to(actor(Role.STAFF, 31, point_id=6), at_point) is None


def test_a_tracking_link_hears_its_one_order():
    link = Subscriber(actor=None, order_id=3)
    assert link.select(happening())["order_id"] == 3
    assert link.select(happening(order_id=4)) is None
