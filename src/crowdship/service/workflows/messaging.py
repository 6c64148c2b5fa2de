"""The order's thread: after acceptance and until delivery its courier, sender and receiver
write to each other through the service (no phone numbers exchanged); the operator reads
every thread (disputes) and may write too. Who the courier is, for the shop at pickup.
Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.messages import repository as messages
from crowdship.service.entities.messages.models import OrderMessage
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.ratings import service as ratings
from crowdship.service.entities.trips import repository as trips
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.telephony import Bridge

# While a courier carries the order, its parties can reach each other.
OPEN_THREAD = frozenset({OrderStatus.ACCEPTED, OrderStatus.PICKED_UP})


def write(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, body: str
) -> OrderMessage:
    order = order_access.visible(session, actor, order_id)
    if order.status not in OPEN_THREAD and actor.role != Role.OPERATOR:
        raise Conflict(
            f"order {order_id} is {order.status.value}; its parties write to each other "
            "while a courier carries it",
            status=order.status.value,
        )
    message = OrderMessage(
        order_id=order_id,
        author_id=actor.id,
        author_role=order_access.role_in(actor, order),
        body=body,
        created_at=context.clock.now(),
    )
    return messages.add(session, message)


def thread(session: Session, actor: Actor, order_id: int) -> list[OrderMessage]:
    order_access.visible(session, actor, order_id)
    return messages.of_order(session, order_id)


@dataclass(frozen=True)
class CourierCard:
    """What the shop sees of the courier at pickup: enough to recognise them."""

    first_name: str
    rating: float
    ratings: int
    vehicle: str


def courier_card(
    session: Session, context: ServiceContext, actor: Actor, order_id: int
) -> CourierCard:
    order = order_access.visible(session, actor, order_id)
    card = public_card(session, context, order)
    if card is None:
        raise NotFound(f"order {order_id} has no courier yet")
    return card


def public_card(session: Session, context: ServiceContext, order: Order) -> CourierCard | None:
    """The courier's card for an order that has one (None before acceptance)."""
    if order.courier_id is None or order.trip_id is None:
        return None
    user = accounts.get(session, order.courier_id)
    trip = trips.get(session, order.trip_id)
    if user is None or trip is None:
        return None
    score = ratings.scores(session, context, [user.id])[user.id]
    return CourierCard(
        first_name=user.name.split()[0] if user.name.split() else user.name,
        rating=score.score,
        ratings=score.ratings,
        vehicle=trip.vehicle,
    )


def call(session: Session, context: ServiceContext, actor: Actor, order_id: int, to: str) -> Bridge:
    """A masked number for calling another party of the order while a courier carries it
    (the courier calls the sender or the receiver; they call the courier)."""
    order = order_access.visible(session, actor, order_id)
    if context.telephony is None:
        raise Conflict(
            "no telephony provider is configured; write through the order's messages",
            status="no_telephony",
        )
    if order.status not in OPEN_THREAD:
        raise Conflict(
            f"order {order_id} is {order.status.value}; calls are for while a courier carries it",
            status=order.status.value,
        )
    me = order_access.role_in(actor, order)
    if me == "courier" and to in ("sender", "receiver"):
        sender = accounts.get(session, order.sender_id)
        callee = order.receiver_phone if to == "receiver" else (sender.phone if sender else None)
    elif me in ("sender", "receiver") and to == "courier" and order.courier_id is not None:
        courier = accounts.get(session, order.courier_id)
        callee = courier.phone if courier else None
    else:
        raise Invalid(
            "to",
            f"as the order's {me} you can call: "
            + ("sender, receiver" if me == "courier" else "courier"),
        )
    caller = accounts.get(session, actor.id)
    if not callee or caller is None or not caller.phone:
        raise Conflict("one of you has no phone number on file", status="no_phone")
    return context.telephony.bridge(caller.phone, callee, context.clock.now(), 30)
