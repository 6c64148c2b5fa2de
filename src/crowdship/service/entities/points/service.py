"""Defining pickup points and their staff. Never commits. (Arrivals and collections are
steps of the order life cycle: ``orders.service.arrive_at_point`` and ``collect``.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts import service as accounts
from crowdship.service.entities.accounts.models import Role, User
from crowdship.service.entities.points import hours
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.points.schemas import PointCreate, PointUpdate, StaffCreate
from crowdship.service.errors import Invalid, NotFound


def create(
    session: Session, context: ServiceContext, actor: Actor, data: PointCreate
) -> PickupPoint:
    actor.require(Role.OPERATOR)
    point = PickupPoint(**data.model_dump(), active=True, created_at=context.clock.now())
    session.add(point)
    session.flush()
    return point


def get(session: Session, point_id: int) -> PickupPoint:
    point = session.get(PickupPoint, point_id)
    if point is None:
        raise NotFound(f"pickup point {point_id} not found")
    return point


def update(session: Session, actor: Actor, point_id: int, data: PointUpdate) -> PickupPoint:
    actor.require(Role.OPERATOR)
    point = get(session, point_id)
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(point, name, value)
    session.flush()
    return point


def listed(session: Session, include_inactive: bool) -> list[PickupPoint]:
    query = select(PickupPoint).order_by(PickupPoint.id)
    if not include_inactive:
        query = query.where(PickupPoint.active)
    return list(session.scalars(query))


def add_staff(
    session: Session, context: ServiceContext, actor: Actor, point_id: int, data: StaffCreate
) -> User:
    actor.require(Role.OPERATOR)
    get(session, point_id)
    user = accounts.create_user(
        session, data.email, data.password, Role.STAFF, data.name, data.phone, context.clock.now()
    )
    user.point_id = point_id
    session.flush()
    return user


def require_open_for(
    context: ServiceContext, point: PickupPoint, earliest_arrival: datetime, latest: datetime
) -> None:
    """Refuse (naming latest_delivery) unless every possible arrival finds the point open."""
    problem = hours.arrival_problem(
        hours.parse(point.opening_hours), context.settings.zone, earliest_arrival, latest
    )
    if problem is not None:
        raise Invalid("latest_delivery", f"{point.name}: {problem}")
