"""Posting an order: where it goes (an address, or a pickup point open whenever a courier
could arrive), whether its window can be met, and its fee from the tariff in force. Never
commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.schemas import OrderCreate, OrderPublic, ParcelFields
from crowdship.service.entities.points import repository as points_repository
from crowdship.service.entities.points import service as points
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.pricing import service as pricing
from crowdship.service.entities.pricing.tariff import ParcelDraft, Quote
from crowdship.service.errors import Invalid


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
    point = points_repository.get(session, parcel.pickup_point_id)
    if point is None or not point.active:
        raise Invalid("pickup_point_id", f"there is no open pickup point {parcel.pickup_point_id}")
    drive = context.travel.minutes((parcel.pickup_lat, parcel.pickup_lon), (point.lat, point.lon))
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
    drive = context.travel.minutes((data.pickup_lat, data.pickup_lon), (where.lat, where.lon))
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
    order_id = row["id"] = orders.insert_order(session, row)
    orders.record(session, order_id, Action.POST, actor.id, now, None, OrderStatus.POSTED)
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
