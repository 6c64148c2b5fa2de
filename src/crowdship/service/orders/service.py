"""Posting, seeing and moving orders through their life cycle. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crowdship.service.accounts.models import Role
from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.errors import Conflict, Forbidden, Invalid, NotFound
from crowdship.service.matching import repository as offers
from crowdship.service.matching.bridge import drive_minutes
from crowdship.service.matching.models import Offer, OfferStatus
from crowdship.service.orders import handover, repository
from crowdship.service.orders.lifecycle import Action, OrderStatus
from crowdship.service.orders.models import Order, OrderEvent
from crowdship.service.orders.schemas import OrderCreate, ParcelFields
from crowdship.service.pricing import ParcelDraft, Quote
from crowdship.service.trips import repository as trips
from crowdship.service.trips.models import Trip, TripStatus


def quote(context: ServiceContext, parcel: ParcelFields) -> Quote:
    return context.pricing.quote(
        ParcelDraft(
            pickup=(parcel.pickup_lat, parcel.pickup_lon),
            delivery=(parcel.delivery_lat, parcel.delivery_lon),
            earliest_pickup=parcel.earliest_pickup,
            latest_delivery=parcel.latest_delivery,
            size=parcel.size,
        )
    )


def _check_window(context: ServiceContext, data: ParcelFields, now: datetime) -> None:
    if data.latest_delivery <= now:
        raise Invalid(
            "latest_delivery", f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC is in the past"
        )
    drive = drive_minutes(
        context.travel, (data.pickup_lat, data.pickup_lon), (data.delivery_lat, data.delivery_lon)
    )
    start = max(data.earliest_pickup, now)
    if start + timedelta(minutes=drive) > data.latest_delivery:
        raise Invalid(
            "latest_delivery",
            f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC cannot be met: the drive from pickup to "
            f"delivery alone takes {drive:.0f} min from {start:%H:%M}",
        )


def post(session: Session, context: ServiceContext, actor: Actor, data: OrderCreate) -> Order:
    actor.require(Role.MERCHANT, Role.CUSTOMER)
    now = context.clock.now()
    _check_window(context, data, now)
    fee = quote(context, data)
    order = Order(
        sender_id=actor.id,
        status=OrderStatus.POSTED,
        fee_cents=fee.fee_cents,
        currency=fee.currency,
        distance_km=fee.distance_km,
        locked=False,
        pickup_attempts=0,
        delivery_attempts=0,
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    session.add(order)
    session.flush()
    repository.record(session, order.id, Action.POST, actor.id, now, None, OrderStatus.POSTED)
    return order


def _carried_by(session: Session, actor: Actor, order: Order) -> bool:
    if order.trip_id is None:
        return False
    trip = session.get(Trip, order.trip_id)
    return trip is not None and trip.courier_id == actor.id


def can_see(session: Session, actor: Actor, order: Order) -> bool:
    if actor.role == Role.OPERATOR or order.sender_id == actor.id:
        return True
    if actor.role == Role.COURIER:
        return _carried_by(session, actor, order)
    return actor.role == Role.CUSTOMER and actor.phone == order.receiver_phone


def visible(session: Session, actor: Actor, order_id: int) -> Order:
    """The order if the actor is one of its parties; 404 otherwise (no existence leaks)."""
    order = repository.get(session, order_id)
    if order is None or not can_see(session, actor, order):
        raise NotFound(f"order {order_id} not found")
    return order


def fresh(session: Session, order_id: int) -> Order:
    """Reload after compare-and-set UPDATEs, which bypass the ORM's copy."""
    order = session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def list_visible(
    session: Session,
    actor: Actor,
    status: OrderStatus | None,
    limit: int,
    offset: int,
) -> list[Order]:
    query = select(Order).order_by(Order.id.desc()).limit(limit).offset(offset)
    if actor.role == Role.COURIER:
        query = query.join(Trip, Trip.id == Order.trip_id).where(Trip.courier_id == actor.id)
    elif actor.role == Role.CUSTOMER:
        query = query.where(
            or_(Order.sender_id == actor.id, Order.receiver_phone == (actor.phone or ""))
        )
    elif actor.role == Role.MERCHANT:
        query = query.where(Order.sender_id == actor.id)
    if status is not None:
        query = query.where(Order.status == status)
    return list(session.scalars(query))


def events(session: Session, actor: Actor, order_id: int) -> list[OrderEvent]:
    visible(session, actor, order_id)
    return repository.events(session, order_id)


def _free_trip(session: Session, trip_id: int | None, to: TripStatus, now: datetime) -> None:
    if trip_id is not None:
        trips.set_status(session, trip_id, TripStatus.ASSIGNED, to, now)


def cancel(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """The sender (or an operator) cancels before pickup."""
    order = visible(session, actor, order_id)
    if actor.role != Role.OPERATOR and order.sender_id != actor.id:
        raise Forbidden(f"only the sender can cancel order {order_id}")
    now = context.clock.now()
    previous_trip = order.trip_id
    repository.transition(
        session, order_id, Action.CANCEL, actor.id, now, trip_id=None, pickup_code_hash=None
    )
    offers.withdraw_pending(session, now, order_id=order_id)
    _free_trip(session, previous_trip, TripStatus.OPEN, now)
    return fresh(session, order_id)


def _own_carried(session: Session, actor: Actor, order_id: int) -> Order:
    actor.require(Role.COURIER)
    order = visible(session, actor, order_id)
    if not _carried_by(session, actor, order):
        raise NotFound(f"order {order_id} not found")
    return order


def withdraw(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """The courier gives an accepted order back, within the withdrawal window."""
    order = _own_carried(session, actor, order_id)
    now = context.clock.now()
    window = timedelta(minutes=context.settings.withdraw_window_min)
    if order.status == OrderStatus.ACCEPTED and order.accepted_at is not None:
        deadline = order.accepted_at + window
        if now > deadline:
            raise Conflict(
                f"the {window.total_seconds() / 60:g}-minute withdrawal window for order "
                f"{order_id} closed at {deadline:%H:%M:%S} UTC",
                status=order.status.value,
            )
    trip_id = order.trip_id
    repository.transition(
        session,
        order_id,
        Action.WITHDRAW,
        actor.id,
        now,
        trip_id=None,
        accepted_at=None,
        pickup_code_hash=None,
        pickup_attempts=0,
    )
    # The courier said no to this pair: like a rejection, it is not offered again.
    session.execute(
        update(Offer)
        .where(
            Offer.order_id == order_id,
            Offer.trip_id == trip_id,
            Offer.status == OfferStatus.ACCEPTED,
        )
        .values(status=OfferStatus.WITHDRAWN, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    _free_trip(session, trip_id, TripStatus.OPEN, now)
    return fresh(session, order_id)


def reissue_pickup_code(
    session: Session, context: ServiceContext, actor: Actor, order_id: int
) -> tuple[Order, str]:
    order = _own_carried(session, actor, order_id)
    if order.status != OrderStatus.ACCEPTED:
        raise Conflict(
            f"order {order_id} is {order.status.value}; pickup codes are for accepted orders",
            status=order.status.value,
        )
    code = handover.issue_pickup_code(session, context, order_id, context.clock.now())
    return fresh(session, order_id), code


def confirm_pickup(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, code: str
) -> Order:
    """The sender checks the courier's pickup code; then the receiver gets theirs by SMS."""
    order = visible(session, actor, order_id)
    if order.sender_id != actor.id:
        raise Forbidden(f"only the sender of order {order_id} confirms its pickup")
    if order.status != OrderStatus.ACCEPTED:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only accepted orders can be picked up",
            status=order.status.value,
        )
    now = context.clock.now()
    handover.verify(session, context, order, handover.PICKUP, code, now)
    repository.transition(session, order_id, Action.PICKUP, actor.id, now, picked_up_at=now)
    handover.send_delivery_code(session, context, order, now)
    return fresh(session, order_id)


def deliver(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, code: str
) -> Order:
    """The courier enters the receiver's code to complete the delivery."""
    order = _own_carried(session, actor, order_id)
    if order.status != OrderStatus.PICKED_UP:
        raise Conflict(
            f"order {order_id} is {order.status.value}; only picked-up orders can be delivered",
            status=order.status.value,
        )
    now = context.clock.now()
    handover.verify(session, context, order, handover.DELIVERY, code, now)
    repository.transition(session, order_id, Action.DELIVER, actor.id, now, delivered_at=now)
    _free_trip(session, order.trip_id, TripStatus.COMPLETED, now)
    return fresh(session, order_id)


def unlock(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """Operator review of a locked order: reset the attempts and send fresh codes."""
    actor.require(Role.OPERATOR)
    order = visible(session, actor, order_id)
    if not order.locked:
        raise Conflict(f"order {order_id} is not locked", status=order.status.value)
    now = context.clock.now()
    repository.set_fields(
        session, order_id, now, locked=False, pickup_attempts=0, delivery_attempts=0
    )
    repository.record(session, order_id, "unlock", actor.id, now, order.status, order.status)
    if order.status == OrderStatus.PICKED_UP:
        handover.send_delivery_code(session, context, order, now)
    return fresh(session, order_id)


def fail(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, note: str
) -> Order:
    """Operator gives up on an order that a courier carries (incident, locked codes)."""
    actor.require(Role.OPERATOR)
    order = visible(session, actor, order_id)
    now = context.clock.now()
    was = order.status
    repository.transition(session, order_id, Action.FAIL, actor.id, now, note=note, locked=False)
    _free_trip(
        session,
        order.trip_id,
        TripStatus.OPEN if was == OrderStatus.ACCEPTED else TripStatus.COMPLETED,
        now,
    )
    return fresh(session, order_id)
