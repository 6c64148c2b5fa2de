"""Handing parcels over: the pickup code, pickup, delivery with the receiver's code (and
cash), arrival at and collection from a pickup point; the operator's unlock and fail. Never
commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import handover, photos
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import HANDED_OVER, Action, OrderStatus
from crowdship.service.entities.orders.models import DeliveryPhoto, Order
from crowdship.service.entities.trips.lifecycle import TripAction
from crowdship.service.errors import Conflict, Forbidden, Invalid, NotFound
from crowdship.service.money import format_money
from crowdship.service.workflows.assignment import release_trip

# A parcel at a pickup point can be collected whatever happens to its money.
COLLECTABLE = HANDED_OVER


def reissue_pickup_code(
    session: Session, context: ServiceContext, actor: Actor, order_id: int
) -> tuple[Order, str]:
    order = order_access.carried(session, actor, order_id)
    if order.status != OrderStatus.ACCEPTED:
        raise Conflict(
            f"order {order_id} is {order.status.value}; pickup codes are for accepted orders",
            status=order.status.value,
        )
    code = handover.issue_pickup_code(session, context, order_id, context.clock.now())
    return order_access.fresh(session, order_id), code


def confirm_pickup(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, code: str
) -> Order:
    """Whoever hands the parcel over checks the courier's pickup code (the sender, or the
    staff of the point where it waits); then the receiver gets theirs by SMS."""
    order = order_access.visible(session, actor, order_id)
    at_point = actor.role == Role.STAFF and order.from_point_id is not None
    if not (order.sender_id == actor.id or (at_point and actor.point_id == order.from_point_id)):
        where = "the staff of its pickup point" if order.from_point_id else "the sender"
        raise Forbidden(f"only {where} confirm the pickup of order {order_id}")
    if order.status != OrderStatus.ACCEPTED:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only accepted orders can be picked up",
            status=order.status.value,
        )
    now = context.clock.now()
    handover.verify(session, context, order, handover.PICKUP, code, now)
    # One UPDATE: the status, the time and the receiver's new code; the row comes back.
    code_columns = handover.new_delivery_code(session, context, order)
    return orders.transition_order(
        session, order, Action.PICKUP, actor.id, now, picked_up_at=now, **code_columns
    )


def _picked_up(order: Order) -> None:
    if order.status != OrderStatus.PICKED_UP:
        raise Conflict(
            f"order {order.id} is {order.status.value}; only picked-up orders can be delivered",
            status=order.status.value,
        )


def deliver(
    session: Session,
    context: ServiceContext,
    actor: Actor,
    order_id: int,
    code: str,
    cash_collected_cents: int | None = None,
    photo: str | None = None,
) -> Order:
    """The courier enters the receiver's code to complete the delivery; for cash on
    delivery, also what the receiver paid. The payment is recorded with the delivery, and
    the photo, if one was taken, is kept as proof of delivery."""
    order = order_access.carried(session, actor, order_id)
    _picked_up(order)
    if order.pickup_point_id is not None:
        raise Conflict(
            f"order {order_id} goes to pickup point {order.pickup_point_id}: its staff confirm "
            "the arrival, and the receiver collects it there",
            status=order.status.value,
        )
    if order.payment_method == "cash_on_delivery":
        amount = format_money(order.fee_cents, order.currency)
        if cash_collected_cents is None:
            raise Invalid(
                "cash_collected_cents", f"cash on delivery: collect {amount} and enter it"
            )
        if cash_collected_cents != order.fee_cents:
            raise Invalid(
                "cash_collected_cents",
                f"{cash_collected_cents} cents is not the fee; collect exactly {amount}",
            )
    elif cash_collected_cents not in (None, 0):
        raise Invalid("cash_collected_cents", "this order is prepaid; collect nothing")
    proof = photos.decode(photo) if photo is not None else None  # checked before the code
    now = context.clock.now()
    handover.verify(session, context, order, handover.DELIVERY, code, now)
    order = orders.transition_order(
        session,
        order,
        Action.DELIVER,
        actor.id,
        now,
        delivered_at=now,
        paid_cents=order.fee_cents,
        paid_at=now,
    )
    if proof is not None:
        content_type, data = proof
        orders.add_photo(
            session,
            DeliveryPhoto(
                order_id=order_id,
                courier_id=actor.id,
                content_type=content_type,
                data=data,
                taken_at=now,
            ),
        )
    release_trip(session, order.trip_id, TripAction.COMPLETE, now)
    return order


def proof_photo(session: Session, actor: Actor, order_id: int) -> DeliveryPhoto:
    """The proof-of-delivery photo, for the order's parties (404 if there is none)."""
    order_access.visible(session, actor, order_id)
    photo = orders.photo_of(session, order_id)
    if photo is None:
        raise NotFound(f"order {order_id} has no proof-of-delivery photo")
    return photo


def _at_my_point(session: Session, actor: Actor, order_id: int) -> Order:
    actor.require(Role.STAFF)
    order = order_access.visible(
        session, actor, order_id
    )  # 404 unless it goes to the staff's point
    return order


def arrive_at_point(
    session: Session, context: ServiceContext, actor: Actor, order_id: int
) -> Order:
    """The point's staff take the parcel from the courier: the courier's delivery is done
    (and the prepaid fee recorded); the receiver collects later with their code."""
    order = _at_my_point(session, actor, order_id)
    _picked_up(order)
    now = context.clock.now()
    orders.transition(
        session,
        order_id,
        Action.ARRIVE,
        actor.id,
        now,
        delivered_at=now,
        paid_cents=order.fee_cents,
        paid_at=now,
    )
    release_trip(session, order.trip_id, TripAction.COMPLETE, now)
    return order_access.fresh(session, order_id)


def collect(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, code: str
) -> Order:
    """The receiver collects at the point: the staff enter the receiver's code."""
    order = _at_my_point(session, actor, order_id)
    if order.delivered_at is None or order.status not in COLLECTABLE:
        raise Conflict(
            f"order {order_id} is {order.status.value}; it has not arrived at the point",
            status=order.status.value,
        )
    if order.collected_at is not None:
        raise Conflict(
            f"order {order_id} was collected at {order.collected_at:%Y-%m-%d %H:%M} UTC",
            status=order.status.value,
        )
    now = context.clock.now()
    handover.verify(session, context, order, handover.DELIVERY, code, now)
    orders.set_fields(session, order_id, now, collected_at=now)
    orders.record(session, order_id, "collect", actor.id, now, order.status, order.status)
    return order_access.fresh(session, order_id)


def unlock(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """Operator review of a locked order: reset the attempts and send fresh codes."""
    actor.require(Role.OPERATOR)
    order = order_access.visible(session, actor, order_id)
    if not order.locked:
        raise Conflict(f"order {order_id} is not locked", status=order.status.value)
    now = context.clock.now()
    orders.set_fields(session, order_id, now, locked=False, pickup_attempts=0, delivery_attempts=0)
    orders.record(session, order_id, "unlock", actor.id, now, order.status, order.status)
    awaiting_collection = order.pickup_point_id is not None and order.collected_at is None
    if order.status == OrderStatus.PICKED_UP or (
        awaiting_collection and order.status in COLLECTABLE
    ):
        handover.send_delivery_code(session, context, order, now)
    return order_access.fresh(session, order_id)


def fail(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, note: str
) -> Order:
    """Operator gives up on an order that a courier carries (incident, locked codes)."""
    actor.require(Role.OPERATOR)
    order = order_access.visible(session, actor, order_id)
    now = context.clock.now()
    was = order.status
    orders.transition(session, order_id, Action.FAIL, actor.id, now, note=note, locked=False)
    release_trip(
        session,
        order.trip_id,
        TripAction.RELEASE if was == OrderStatus.ACCEPTED else TripAction.COMPLETE,
        now,
    )
    return order_access.fresh(session, order_id)
