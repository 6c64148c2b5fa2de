from __future__ import annotations

from fastapi import APIRouter

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    Operator,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.accounts.schemas import UserPublic
from crowdship.service.entities.points import service
from crowdship.service.entities.points.models import PickupPoint
from crowdship.service.entities.points.schemas import (
    PointCreate,
    PointPublic,
    PointUpdate,
    StaffCreate,
)
from crowdship.service.routes.contract import refusals
from crowdship.service.workflows import staffing

router = APIRouter(route_class=CommittingRoute, tags=["pickup points"])


@router.post("/pickup-points", response_model=PointPublic, status_code=201)
def create_point(
    data: PointCreate, actor: Operator, session: WriteSession, context: Context
) -> PickupPoint:
    """Operator: a staffed place (campus station, library) where receivers collect parcels.
    Opening hours are local time in the deployment's zone."""
    return service.create(session, context, actor, data)


@router.get("/pickup-points", response_model=list[PointPublic])
def list_points(
    actor: CurrentActor, session: ReadSession, include_inactive: bool = False
) -> list[PickupPoint]:
    """Points orders can be sent to."""
    return service.listed(session, include_inactive)


@router.patch("/pickup-points/{point_id}", response_model=PointPublic)
def update_point(
    point_id: PathId, data: PointUpdate, actor: Operator, session: WriteSession
) -> PickupPoint:
    """Operator: rename, change opening hours, or close a point (``active: false``)."""
    return service.update(session, actor, point_id, data)


@router.post(
    "/pickup-points/{point_id}/staff",
    response_model=UserPublic,
    status_code=201,
    responses=refusals(409),
)
def add_staff(
    point_id: PathId, data: StaffCreate, actor: Operator, session: WriteSession, context: Context
) -> User:
    """Operator: an account for someone working at the point (confirms arrivals, hands
    parcels to receivers who give their code)."""
    return staffing.add_staff(session, context, actor, point_id, data)
