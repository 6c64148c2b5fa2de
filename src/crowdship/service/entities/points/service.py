"""Defining pickup points and their opening hours. Never commits. (Their staff are accounts:
``workflows.staffing``; arrivals and collections are steps of the order life cycle:
``workflows.delivery``.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.points import hours, repository
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.points.schemas import PointCreate, PointUpdate
from crowdship.service.errors import Invalid, NotFound


def create(
    session: Session, context: ServiceContext, actor: Actor, data: PointCreate
) -> PickupPoint:
    actor.require(Role.OPERATOR)
    point = PickupPoint(**data.model_dump(), active=True, created_at=context.clock.now())
    return repository.add(session, point)


def get(session: Session, point_id: int) -> PickupPoint:
    point = repository.get(session, point_id)
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
    return repository.listed(session, include_inactive)


def require_open_for(
    context: ServiceContext,
    point: PickupPoint,
    earliest_arrival: datetime,
    latest: datetime,
    field: str = "latest_delivery",
) -> None:
    """Refuse (naming ``field``) unless every possible arrival finds the point open."""
    problem = hours.arrival_problem(
        hours.parse(point.opening_hours), context.settings.zone, earliest_arrival, latest
    )
    if problem is not None:
        raise Invalid(field, f"{point.name}: {problem}")
