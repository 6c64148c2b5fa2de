"""Posting, seeing and moving orders through their life cycle. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.models import Offer, OfferStatus
from crowdship.service.entities.orders import handover, repository
from crowdship.service.entities.orders.lifecycle import HANDED_OVER, Action, OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.orders.schemas import OrderCreate, OrderPublic, ParcelFields
from crowdship.service.entities.points import service as points
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.pricing import service as pricing
from crowdship.service.entities.pricing.tariff import ParcelDraft, Quote
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.errors import Conflict, Forbidden, Invalid, NotFound
from crowdship.service.workflows.core_model import drive_minutes

# A parcel at a pickup point can be collected whatever happens to its money.
COLLECTABLE = HANDED_OVER


@dataclass(frozen=True)
class Destination:
    lat: float
    lon: float
    address: str | None
    point: PickupPoint | None


def _destination(
    session: Session, context: ServiceContext, parcel: ParcelFields, now: datetime
) -> Destination:
    """Where the parcel goes: an address, or a pickup point that is open whenever a courier
    could arrive. Names the field that is missing or wrong."""
    address = getattr(parcel, "delivery_address", None)
    if parcel.pickup_point_id is None:
        for name in ("delivery_lat", "delivery_lon"):
            if getattr(parcel, name) is None:
                raise Invalid(name, "is required unless pickup_point_id is given")
        if isinstance(parcel, OrderCreate) and not address:
            raise Invalid("delivery_address", "is required unless pickup_point_id is given")
        assert parcel.delivery_lat is not None and parcel.delivery_lon is not None
        return Destination(parcel.delivery_lat, parcel.delivery_lon, address, None)
    for name in ("delivery_lat", "delivery_lon", "delivery_address"):
        if getattr(parcel, name, None) is not None:
            raise Invalid(name, "leave it out: the pickup point gives the delivery location")
    if getattr(parcel, "payment_method", "prepaid") == "cash_on_delivery":
        raise Invalid("payment_method", "cash on delivery is not available for pickup points")
    point = session.get(PickupPoint, parcel.pickup_point_id)
    if point is None or not point.active:
        raise Invalid("pickup_point_id", f"there is no open pickup point {parcel.pickup_point_id}")
    drive = drive_minutes(
        context.travel, (parcel.pickup_lat, parcel.pickup_lon), (point.lat, point.lon)
    )
    earliest_arrival = max(parcel.earliest_pickup, now) + timedelta(minutes=drive)
    points.require_open_for(context, point, earliest_arrival, parcel.latest_delivery)
    return Destination(point.lat, point.lon, f"{point.name}, {point.address}", point)


def quote(
    session: Session, context: ServiceContext, parcel: ParcelFields, now: datetime | None = None
) -> Quote:
    return _priced(
        context, parcel, _destination(session, context, parcel, now or context.clock.now())
    )


def _priced(context: ServiceContext, parcel: ParcelFields, where: Destination) -> Quote:
    return pricing.quote(
        context,
        ParcelDraft(
            pickup=(parcel.pickup_lat, parcel.pickup_lon),
            delivery=(where.lat, where.lon),
            earliest_pickup=parcel.earliest_pickup,
            latest_delivery=parcel.latest_delivery,
            size=parcel.size,
        ),
    )


def _check_window(
    context: ServiceContext, data: ParcelFields, where: Destination, now: datetime
) -> None:
    """Even driving straight from pickup to delivery, the latest delivery must be met."""
    drive = drive_minutes(
        context.travel, (data.pickup_lat, data.pickup_lon), (where.lat, where.lon)
    )
    start = max(data.earliest_pickup, now)
    if start + timedelta(minutes=drive) > data.latest_delivery:
        raise Invalid(
            "latest_delivery",
            f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC cannot be met: the drive from pickup to "
            f"delivery alone takes {drive:.0f} min from {start:%H:%M}",
        )


def post(session: Session, context: ServiceContext, actor: Actor, data: OrderCreate) -> OrderPublic:
    """Price and store a new order; its public view."""
    actor.require(Role.MERCHANT, Role.CUSTOMER)
    now = context.clock.now()
    if data.latest_delivery <= now:
        raise Invalid(
            "latest_delivery", f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC is in the past"
        )
    where = _destination(session, context, data, now)
    _check_window(context, data, where, now)
    fee = _priced(context, data, where)
    row: dict[str, object] = {
        **data.model_dump(exclude={"delivery_lat", "delivery_lon", "delivery_address"}),
        "sender_id": actor.id,
        "status": OrderStatus.POSTED,
        "delivery_lat": where.lat,
        "delivery_lon": where.lon,
        "delivery_address": where.address,
        "fee_cents": fee.fee_cents,
        "courier_cents": fee.courier_cents,
        "platform_cents": fee.platform_cents,
        "fee_breakdown": fee.breakdown,
        "tariff_version": fee.tariff_version,
        "currency": fee.currency,
        "distance_km": fee.distance_km,
        "locked": False,
        "pickup_attempts": 0,
        "delivery_attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    # Posting is the hottest write: two Core INSERTs cost a fraction of an ORM flush, and
    # the answer is built from the row itself rather than read back.
    order_id = row["id"] = repository.insert_order(session, row)
    repository.record(session, order_id, Action.POST, actor.id, now, None, OrderStatus.POSTED)
    return OrderPublic.model_validate({**NOT_YET_SET, **row})


# What a freshly posted order has not got yet: no courier, no handover, no money moved.
NOT_YET_SET = dict.fromkeys(
    (
        "trip_id",
        "accepted_at",
        "picked_up_at",
        "delivered_at",
        "paid_cents",
        "paid_at",
        "collected_at",
        "settled_at",
    )
)


def courier_of(session: Session, order: Order) -> int | None:
    """The courier whose trip carries (or carried) the order."""
    if order.trip_id is None:
        return None
    return session.scalar(select(Trip.courier_id).where(Trip.id == order.trip_id))


def _carried_by(session: Session, actor: Actor, order: Order) -> bool:
    return courier_of(session, order) == actor.id


def can_see(session: Session, actor: Actor, order: Order) -> bool:
    if actor.role == Role.OPERATOR or order.sender_id == actor.id:
        return True
    if actor.role == Role.COURIER:
        return _carried_by(session, actor, order)
    if actor.role == Role.STAFF:
        return order.pickup_point_id is not None and order.pickup_point_id == actor.point_id
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
    elif actor.role == Role.STAFF:
        query = query.where(Order.pickup_point_id == (actor.point_id or -1))
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
) -> Order:
    """The courier enters the receiver's code to complete the delivery; for cash on
    delivery, also what the receiver paid. The payment is recorded with the delivery."""
    order = _own_carried(session, actor, order_id)
    _picked_up(order)
    if order.pickup_point_id is not None:
        raise Conflict(
            f"order {order_id} goes to pickup point {order.pickup_point_id}: its staff confirm "
            "the arrival, and the receiver collects it there",
            status=order.status.value,
        )
    if order.payment_method == "cash_on_delivery":
        amount = f"{order.fee_cents / 100:.2f} {order.currency}"
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
    now = context.clock.now()
    handover.verify(session, context, order, handover.DELIVERY, code, now)
    repository.transition(
        session,
        order_id,
        Action.DELIVER,
        actor.id,
        now,
        delivered_at=now,
        paid_cents=order.fee_cents,
        paid_at=now,
    )
    _free_trip(session, order.trip_id, TripStatus.COMPLETED, now)
    return fresh(session, order_id)


def _at_my_point(session: Session, actor: Actor, order_id: int) -> Order:
    actor.require(Role.STAFF)
    order = visible(session, actor, order_id)  # 404 unless it goes to the staff's point
    return order


def arrive_at_point(
    session: Session, context: ServiceContext, actor: Actor, order_id: int
) -> Order:
    """The point's staff take the parcel from the courier: the courier's delivery is done
    (and the prepaid fee recorded); the receiver collects later with their code."""
    order = _at_my_point(session, actor, order_id)
    _picked_up(order)
    now = context.clock.now()
    repository.transition(
        session,
        order_id,
        Action.ARRIVE,
        actor.id,
        now,
        delivered_at=now,
        paid_cents=order.fee_cents,
        paid_at=now,
    )
    _free_trip(session, order.trip_id, TripStatus.COMPLETED, now)
    return fresh(session, order_id)


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
    repository.set_fields(session, order_id, now, collected_at=now)
    repository.record(session, order_id, "collect", actor.id, now, order.status, order.status)
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
    awaiting_collection = order.pickup_point_id is not None and order.collected_at is None
    if order.status == OrderStatus.PICKED_UP or (
        awaiting_collection and order.status in COLLECTABLE
    ):
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
