"""Couriers register their trips and see them; changing and cancelling a trip moves its
offers and orders too, so it is a workflow (``workflows.assignment``). Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.trips import repository
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.entities.trips.schemas import TripCreate
from crowdship.service.errors import Invalid, NotFound

LOCATION_FIELDS = ("origin_lat", "origin_lon", "destination_lat", "destination_lon")


def check_times(trip: Trip, context: ServiceContext, now: datetime) -> None:
    if trip.earliest_departure < now:
        raise Invalid(
            "earliest_departure",
            f"{trip.earliest_departure:%Y-%m-%d %H:%M} UTC is in the past",
        )
    horizon = now + timedelta(days=context.settings.horizon_days)
    if trip.latest_arrival > horizon:
        raise Invalid(
            "latest_arrival",
            f"{trip.latest_arrival:%Y-%m-%d %H:%M} UTC is more than "
            f"{context.settings.horizon_days} days ahead (after {horizon:%Y-%m-%d %H:%M} UTC)",
        )
    if trip.latest_arrival <= trip.earliest_departure:
        raise Invalid(
            "latest_arrival",
            f"{trip.latest_arrival:%Y-%m-%d %H:%M} is not after earliest_departure "
            f"{trip.earliest_departure:%Y-%m-%d %H:%M} (UTC)",
        )
    drive = context.travel.minutes(
        (trip.origin_lat, trip.origin_lon), (trip.destination_lat, trip.destination_lon)
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
    check_times(trip, context, now)
    return repository.add(session, trip)


def visible(session: Session, actor: Actor, trip_id: int, for_update: bool = False) -> Trip:
    """The trip if the actor may see it (its courier, an operator); 404 otherwise."""
    trip = repository.get(session, trip_id, for_update=for_update)
    if trip is None or (actor.role != Role.OPERATOR and trip.courier_id != actor.id):
        raise NotFound(f"trip {trip_id} not found")
    return trip


def own(session: Session, actor: Actor, trip_id: int, for_update: bool = False) -> Trip:
    actor.require(Role.COURIER)
    return visible(session, actor, trip_id, for_update)


def listed(
    session: Session,
    context: ServiceContext,
    actor: Actor,
    status: TripStatus | None,
    limit: int,
    offset: int,
) -> list[Trip]:
    """A courier's own trips; every trip for an operator. The coming ones first, the next
    to leave on top; then the others, the latest first (``repository.list_for``)."""
    actor.require(Role.COURIER, Role.OPERATOR)
    courier = None if actor.role == Role.OPERATOR else actor.id
    now = context.clock.now()
    return repository.list_for(session, courier, status, now, limit, offset)
