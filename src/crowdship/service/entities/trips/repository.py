from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.trips.models import Trip, TripStatus


def get(session: Session, trip_id: int, for_update: bool = False) -> Trip | None:
    query = select(Trip).where(Trip.id == trip_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_for(
    session: Session, courier_id: int | None, status: TripStatus | None, limit: int, offset: int
) -> list[Trip]:
    query = select(Trip).order_by(Trip.earliest_departure, Trip.id).limit(limit).offset(offset)
    if courier_id is not None:
        query = query.where(Trip.courier_id == courier_id)
    if status is not None:
        query = query.where(Trip.status == status)
    return list(session.scalars(query))


def set_status(
    session: Session,
    trip_id: int,
    expected: TripStatus,
    new: TripStatus,
    now: datetime,
    **values: Any,
) -> bool:
    """Compare-and-set: True if the trip was ``expected`` and is now ``new``."""
    result = session.execute(
        update(Trip)
        .where(Trip.id == trip_id, Trip.status == expected)
        .values(status=new, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
