"""Couriers register, change and cancel their trips. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.trips import repository
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.entities.trips.schemas import TripCreate, TripUpdate
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.workflows.core_model import drive_minutes

LOCATION_FIELDS = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")


def _check_times(trip: Trip, context: ServiceContext, now: datetime) -> None:
    if trip.earliest_departure < now:
        raise Invalid(
            "earliest_departure",
            f"{trip.earliest_departure:%Y-%m-%d %H:%M} UTC is in the past",
        )
    if trip.latest_arrival <= trip.earliest_departure:
        raise Invalid(
            "latest_arrival",
            f"{trip.latest_arrival:%Y-%m-%d %H:%M} is not after earliest_departure "
            f"{trip.earliest_departure:%Y-%m-%d %H:%M} (UTC)",
        )
    drive = drive_minutes(
        context.travel,
        (trip.origin_lat, trip.origin_lon),
        (trip.destination_lat, trip.destination_lon),
    )
    window = (trip.latest_arrival - trip.earliest_departure).total_seconds() / 60
    if drive > window + 1e-6:
        raise Invalid(
            "latest_arrival",
            f"the drive from origin to destination takes {drive:.0f} min, more than the "
            f"{window:.0f} min between earliest_departure and latest_arrival",
        )


def create(session: Session, context: ServiceContext, actor: Actor, data: TripCreate) -> Trip:
    actor.require(Role.COURIER)
    now = context.clock.now()
    trip = Trip(
        courier_id=actor.id,
        status=TripStatus.OPEN,
        created_at=now,
        updated_at=now,
        **data.model_dump(),
    )
    _check_times(trip, context, now)
    session.add(trip)
    session.flush()
    return trip


def visible(session: Session, actor: Actor, trip_id: int, for_update: bool = False) -> Trip:
    """The trip if the actor may see it (its courier, an operator); 404 otherwise."""
    trip = repository.get(session, trip_id, for_update=for_update)
    if trip is None or (actor.role != Role.OPERATOR and trip.courier_id != actor.id):
        raise NotFound(f"trip {trip_id} not found")
    return trip


def own(session: Session, actor: Actor, trip_id: int, for_update: bool = False) -> Trip:
    actor.require(Role.COURIER)
    return visible(session, actor, trip_id, for_update)


def update(
    session: Session, context: ServiceContext, actor: Actor, trip_id: int, data: TripUpdate
) -> Trip:
    trip = own(session, actor, trip_id, for_update=True)
    if trip.status != TripStatus.OPEN:
        raise Conflict(
            f"trip {trip_id} is {trip.status.value}; only open trips can change",
            status=trip.status.value,
        )
    if offers.pending_offer_exists(session, trip_id):
        raise Conflict(
            f"trip {trip_id} has a pending offer; accept or reject it before changing the trip",
            status=trip.status.value,
        )
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(name, "cannot be null; leave it out to keep the current value")
        setattr(trip, name, value)
    now = context.clock.now()
    _check_times(trip, context, now)
    trip.updated_at = now
    session.flush()
    return trip


def cancel(session: Session, context: ServiceContext, actor: Actor, trip_id: int) -> Trip:
    """Cancel a trip; a pending offer is withdrawn and an accepted (not yet picked up)
    order goes back to the pool."""
    trip = own(session, actor, trip_id, for_update=True)
    now = context.clock.now()
    if trip.status == TripStatus.ASSIGNED:
        carried = [
            o
            for o in orders.on_trip(session, trip_id)
            if o.status in (OrderStatus.ACCEPTED, OrderStatus.PICKED_UP)
        ]
        if any(o.status == OrderStatus.PICKED_UP for o in carried):
            raise Conflict(
                f"trip {trip_id} carries a picked-up parcel; deliver it or report an incident",
                status=trip.status.value,
            )
        for order in carried:
            orders.transition(
                session,
                order.id,
                Action.TRIP_CANCEL,
                actor.id,
                now,
                note=f"trip {trip_id} cancelled",
                trip_id=None,
                accepted_at=None,
                pickup_code_hash=None,
            )
        expected = TripStatus.ASSIGNED
    elif trip.status == TripStatus.OPEN:
        for order_id, _ in offers.withdraw_pending(session, now, trip_id=trip_id):
            orders.transition(
                session,
                order_id,
                Action.TRIP_CANCEL,
                actor.id,
                now,
                note=f"trip {trip_id} cancelled; its offer was withdrawn",
            )
        expected = TripStatus.OPEN
    else:
        raise Conflict(f"trip {trip_id} is already {trip.status.value}", status=trip.status.value)
    if not repository.set_status(session, trip_id, expected, TripStatus.CANCELLED, now):
        raise Conflict(f"trip {trip_id} changed meanwhile; try again", status=trip.status.value)
    session.refresh(trip)
    return trip
