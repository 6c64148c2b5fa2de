"""Every query on trips. Status changes go through ``transition`` and its table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, or_, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.lifecycle import TRANSITIONS, TripAction
from crowdship.service.entities.trips.models import Trip, TripStatus


def get(session: Session, trip_id: int, for_update: bool = False) -> Trip | None:
    query = select(Trip).where(Trip.id == trip_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def add(session: Session, trip: Trip) -> Trip:
    session.add(trip)
    session.flush()
    return trip


def list_for(
    session: Session,
    courier_id: int | None,
    status: TripStatus | None,
    now: datetime,
    limit: int,
    offset: int,
) -> list[Trip]:
    """Trips in the order a courier reads them, one total order that ``limit`` and
    ``offset`` page through: the coming ones first (those carrying orders, and the open ones
    not yet due to arrive), the next to leave on top (by departure, then id); then the rest
    (done, cancelled, and open ones past their latest arrival), the latest first."""
    coming = or_(
        Trip.status == TripStatus.ASSIGNED,
        and_(Trip.status == TripStatus.OPEN, Trip.latest_arrival > now),
    )
    first = case((coming, 0), else_=1)
    query = (
        select(Trip)
        .order_by(
            first,
            case((coming, Trip.earliest_departure)).asc(),
            case((coming, Trip.id)).asc(),
            Trip.earliest_departure.desc(),
            Trip.id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    if courier_id is not None:
        query = query.where(Trip.courier_id == courier_id)
    if status is not None:
        query = query.where(Trip.status == status)
    return list(session.scalars(query))


def transition(
    session: Session, trip_id: int, action: TripAction, now: datetime, **values: Any
) -> bool:
    """Apply ``action`` as one compare-and-set UPDATE: True if the trip was in one of the
    action's source states and is now in its target; False (nothing changed) otherwise."""
    sources, to = TRANSITIONS[action]
    result = session.execute(
        update(Trip)
        .where(Trip.id == trip_id, Trip.status.in_(sources))
        .values(status=to, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def free(session: Session, now: datetime, couriers: Select[Any], busy: Select[Any]) -> list[Trip]:
    """Open trips that have not departed, of the ``couriers`` (a query of ids) and not in
    ``busy`` (a query of trip ids)."""
    query = (
        select(Trip)
        .where(
            Trip.status == TripStatus.OPEN,
            Trip.earliest_departure >= now,
            Trip.courier_id.in_(couriers),
            Trip.id.not_in(busy),
        )
        .order_by(Trip.id)
    )
    return list(session.scalars(query))


def transition_if_empty(
    session: Session,
    trip_id: int,
    action: TripAction,
    now: datetime,
    before_departure: bool = False,
) -> bool:
    """``transition``, only if the trip carries no order now (accepted or picked up), and
    with ``before_departure`` only if it has not departed: the same one UPDATE, guarded by
    the orders' rows as this transaction sees them."""
    sources, to = TRANSITIONS[action]
    carrying = exists().where(
        Order.trip_id == Trip.id,
        Order.status.in_((OrderStatus.ACCEPTED, OrderStatus.PICKED_UP)),
    )
    guards = [Trip.id == trip_id, Trip.status.in_(sources), ~carrying]
    if before_departure:
        guards.append(Trip.earliest_departure >= now)
    result = session.execute(
        update(Trip)
        .where(*guards)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def taking(session: Session, now: datetime, couriers: Select[Any], busy: Select[Any]) -> list[Trip]:
    """Trips that may take an order, not departed, of the ``couriers`` (a query of ids) and
    not in ``busy`` (a query of trip ids): open ones, and assigned ones with a capacity
    above one (whether one more order fits is their route's to say)."""
    query = (
        select(Trip)
        .where(
            or_(
                Trip.status == TripStatus.OPEN,
                and_(Trip.status == TripStatus.ASSIGNED, Trip.capacity > 1),
            ),
            Trip.earliest_departure >= now,
            Trip.courier_id.in_(couriers),
            Trip.id.not_in(busy),
        )
        .order_by(Trip.id)
    )
    return list(session.scalars(query))


def lock_taking(session: Session, trip_ids: set[int]) -> dict[int, TripStatus]:
    """Which of these trips may still take an order (open or assigned), with their status,
    locked for the rest of the transaction."""
    query = (
        select(Trip.id, Trip.status)
        .where(Trip.id.in_(trip_ids), Trip.status.in_((TripStatus.OPEN, TripStatus.ASSIGNED)))
        .with_for_update()
    )
    return {trip_id: status for trip_id, status in session.execute(query)}


def courier_of(session: Session, trip_ids: set[int]) -> dict[int, int]:
    """trip id -> its courier's id."""
    query = select(Trip.id, Trip.courier_id).where(Trip.id.in_(trip_ids))
    return {trip_id: courier_id for trip_id, courier_id in session.execute(query)}


def map_rows(session: Session, since: datetime, limit: int) -> list[Any]:
    """Trips worth drawing: open or carrying, not yet arrived before ``since`` (only the
    columns a map needs)."""
    query = (
        select(
            Trip.id,
            Trip.courier_id,
            Trip.status,
            Trip.earliest_departure,
            Trip.latest_arrival,
            Trip.origin_lat,
            Trip.origin_lon,
            Trip.destination_lat,
            Trip.destination_lon,
        )
        .where(
            Trip.status.in_((TripStatus.OPEN, TripStatus.ASSIGNED)),
            Trip.latest_arrival >= since,
        )
        .order_by(Trip.earliest_departure)
        .limit(limit)
    )
    return list(session.execute(query))
