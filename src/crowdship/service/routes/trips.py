from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    Courier,
    CurrentActor,
    Limit,
    Offset,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.trips import service
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.entities.trips.schemas import TripCreate, TripPublic, TripRoute, TripUpdate
from crowdship.service.routes.contract import refusals
from crowdship.service.routes.idempotency import IdempotencyKey, answer_once
from crowdship.service.workflows import assignment, routing

router = APIRouter(route_class=CommittingRoute, prefix="/trips", tags=["trips"])


@router.post("", response_model=TripPublic, status_code=201)
def create_trip(
    request: Request,
    data: TripCreate,
    actor: Courier,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Register a planned trip (couriers)."""
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        data,
        TripPublic,
        lambda: service.create(session, context, actor, data),
        status_code=201,
    )


@router.get("", response_model=list[TripPublic], responses=refusals(403))
def list_trips(
    actor: CurrentActor,
    session: ReadSession,
    context: Context,
    status: TripStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[Trip]:
    """A courier's own trips; every trip for an operator. The coming ones first, the next to
    leave on top (by `earliest_departure`, then id): those that carry orders and the open
    ones whose `latest_arrival` is still ahead. Then the rest (completed, cancelled, and
    open ones past their latest arrival), the latest departure first. `limit` and `offset`
    page through that one order."""
    return service.listed(session, context, actor, status, limit, offset)


@router.get("/{trip_id}", response_model=TripPublic)
def get_trip(trip_id: PathId, actor: CurrentActor, session: ReadSession) -> Trip:
    return service.visible(session, actor, trip_id)


@router.get("/{trip_id}/route", response_model=TripRoute, responses=refusals(403))
def trip_route(
    trip_id: PathId, actor: CurrentActor, session: ReadSession, context: Context
) -> TripRoute:
    """The trip's route: its stops in driving order (start, pick up and deliver each order
    it carries, end) with planned times and the load, planned again from what it carries
    now (its courier and operators; 403 for other roles, 404 for another courier's trip)."""
    return routing.trip_route(session, context, actor, trip_id)


@router.patch("/{trip_id}", response_model=TripPublic, responses=refusals(403, 409))
def update_trip(
    trip_id: PathId, data: TripUpdate, actor: CurrentActor, session: WriteSession, context: Context
) -> Trip:
    """Change an open trip that has no pending offer."""
    return assignment.update_trip(session, context, actor, trip_id, data)


@router.post("/{trip_id}/cancel", response_model=TripPublic, responses=refusals(403, 409))
def cancel_trip(
    trip_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> Trip:
    """Cancel a trip; an order it carried (not yet picked up) goes back to the pool."""
    return assignment.cancel_trip(session, context, actor, trip_id)
