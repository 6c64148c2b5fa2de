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
from crowdship.service.money import MAX_FEE_CENTS, format_money


@dataclass(frozen=True)
class Place:
    """One end of the parcel's move: coordinates and address, or a pickup point."""

    lat: float
    lon: float
    address: str | None
    point: PickupPoint | None

    @property
    def at(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def _open_point(session: Session, field: str, point_id: int) -> PickupPoint:
    point = points_repository.get(session, point_id)
    if point is None or not point.active:
        raise Invalid(field, f"there is no open pickup point {point_id}")
    return point


def _origin(session: Session, parcel: ParcelFields) -> Place:
    """Where the parcel starts: an address, or a pickup point where it waits (the campus
    short leg); the point must be open whenever a courier could come for it."""
    if parcel.from_point_id is None:
        for name in ("pickup_lat", "pickup_lon"):
            if getattr(parcel, name) is None:
                raise Invalid(name, "is required unless from_point_id is given")
        address = getattr(parcel, "pickup_address", None)
        if isinstance(parcel, OrderCreate) and not address:
            raise Invalid("pickup_address", "is required unless from_point_id is given")
        assert parcel.pickup_lat is not None and parcel.pickup_lon is not None
        return Place(parcel.pickup_lat, parcel.pickup_lon, address, None)
    for name in ("pickup_lat", "pickup_lon", "pickup_address"):
        if getattr(parcel, name, None) is not None:
            raise Invalid(name, "leave it out: the pickup point gives the pickup location")
    if parcel.pickup_point_id is not None:
        raise Invalid(
            "from_point_id", "an order comes from a pickup point or goes to one, not both"
        )
    return _at_point(_open_point(session, "from_point_id", parcel.from_point_id))


def _at_point(point: PickupPoint) -> Place:
    return Place(point.lat, point.lon, f"{point.name}, {point.address}", point)


def _destination(
    session: Session, context: ServiceContext, parcel: ParcelFields, start: Place, now: datetime
) -> Place:
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
        return Place(parcel.delivery_lat, parcel.delivery_lon, address, None)
    for name in ("delivery_lat", "delivery_lon", "delivery_address"):
        if getattr(parcel, name, None) is not None:
            raise Invalid(name, "leave it out: the pickup point gives the delivery location")
    if getattr(parcel, "payment_method", "prepaid") == "cash_on_delivery":
        raise Invalid("payment_method", "cash on delivery is not available for pickup points")
    point = _open_point(session, "pickup_point_id", parcel.pickup_point_id)
    drive = context.travel.minutes(start.at, (point.lat, point.lon))
    earliest_arrival = max(parcel.earliest_pickup, now) + timedelta(minutes=drive)
    points.require_open_for(context, point, earliest_arrival, parcel.latest_delivery)
    return _at_point(point)


def _route(session: Session, context: ServiceContext, parcel: ParcelFields, now: datetime) -> Route:
    start = _origin(session, parcel)
    end = _destination(session, context, parcel, start, now)
    if start.point is not None:
        # The courier collects from the point between the earliest pickup and the last
        # moment that still makes the latest delivery: the point must be open all along.
        drive = context.travel.minutes(start.at, end.at)
        earliest = max(parcel.earliest_pickup, now)
        latest = parcel.latest_delivery - timedelta(minutes=drive)
        if latest > earliest:
            points.require_open_for(context, start.point, earliest, latest, "earliest_pickup")
    return Route(start, end)


@dataclass(frozen=True)
class Route:
    start: Place
    end: Place


def quote(
    session: Session, context: ServiceContext, parcel: ParcelFields, now: datetime | None = None
) -> Quote:
    now = now or context.clock.now()
    return _priced(context, parcel, _route(session, context, parcel, now), now)


def _priced(context: ServiceContext, parcel: ParcelFields, route: Route, now: datetime) -> Quote:
    fee = pricing.quote(
        context,
        ParcelDraft(
            pickup=route.start.at,
            delivery=route.end.at,
            # A parcel ready since some time ago can be picked up from now: its window (the
            # urgency) and its peak hour are counted from now, however early it says it was
            # ready (backdating it dodged both surcharges).
            earliest_pickup=max(parcel.earliest_pickup, now),
            latest_delivery=parcel.latest_delivery,
            size=parcel.size,
        ),
    )
    if fee.fee_cents > MAX_FEE_CENTS:
        # A tariff at its bounds over a long way: more than an order can be charged (and
        # than PostgreSQL's integer columns hold). The destination is what makes it so.
        field = "pickup_point_id" if parcel.pickup_point_id is not None else "delivery_lat"
        raise Invalid(
            field,
            f"the fee would be {format_money(fee.fee_cents, fee.currency)} for "
            f"{fee.distance_km:,.1f} km at the tariff in force, more than the "
            f"{format_money(MAX_FEE_CENTS, fee.currency)} an order may cost",
        )
    return fee


def _check_window(context: ServiceContext, data: ParcelFields, route: Route, now: datetime) -> None:
    """Even driving straight from pickup to delivery, the latest delivery must be met."""
    drive = context.travel.minutes(route.start.at, route.end.at)
    start = max(data.earliest_pickup, now)
    if start + timedelta(minutes=drive) > data.latest_delivery:
        raise Invalid(
            "latest_delivery",
            f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC cannot be met: the drive from pickup to "
            f"delivery alone takes {drive:.0f} min from {start:%H:%M}",
        )


def post(session: Session, context: ServiceContext, actor: Actor, data: OrderCreate) -> OrderPublic:
    """Price and store a new order; its public view. Merchants and customers send parcels;
    a pickup point's staff post the short leg of a parcel waiting at their point."""
    actor.require(Role.MERCHANT, Role.CUSTOMER, Role.STAFF)
    if actor.role == Role.STAFF and (
        data.from_point_id is None or data.from_point_id != actor.point_id
    ):
        raise Invalid(
            "from_point_id",
            f"staff post orders for parcels waiting at their own point ({actor.point_id})",
        )
    now = context.clock.now()
    if data.latest_delivery <= now:
        raise Invalid(
            "latest_delivery", f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC is in the past"
        )
    horizon = now + timedelta(days=context.settings.horizon_days)
    if data.latest_delivery > horizon:
        raise Invalid(
            "latest_delivery",
            f"{data.latest_delivery:%Y-%m-%d %H:%M} UTC is more than "
            f"{context.settings.horizon_days} days ahead (after {horizon:%Y-%m-%d %H:%M} UTC)",
        )
    if data.earliest_pickup < now:
        # Ready since some time ago is ready now: the order keeps now, the time its price,
        # its window check and the matching count from (not last night, nor year 1).
        data = data.model_copy(update={"earliest_pickup": now})
    route = _route(session, context, data, now)
    _check_window(context, data, route, now)
    fee = _priced(context, data, route, now)
    ends = {"delivery_lat", "delivery_lon", "delivery_address"}
    ends |= {"pickup_lat", "pickup_lon", "pickup_address"}
    row: dict[str, object] = {
        **data.model_dump(exclude=ends),
        "sender_id": actor.id,
        "status": OrderStatus.POSTED,
        "pickup_lat": route.start.lat,
        "pickup_lon": route.start.lon,
        "pickup_address": route.start.address,
        "delivery_lat": route.end.lat,
        "delivery_lon": route.end.lon,
        "delivery_address": route.end.address,
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
