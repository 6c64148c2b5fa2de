"""Every query on pickup points."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdship.service.entities.points.models import PickupPoint


def get(session: Session, point_id: int) -> PickupPoint | None:
    return session.get(PickupPoint, point_id)


def add(session: Session, point: PickupPoint) -> PickupPoint:
    session.add(point)
    session.flush()
    return point


def listed(session: Session, include_inactive: bool) -> list[PickupPoint]:
    query = select(PickupPoint).order_by(PickupPoint.id)
    if not include_inactive:
        query = query.where(PickupPoint.active)
    return list(session.scalars(query))
