from __future__ import annotations

from fastapi import APIRouter

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    Limit,
    Offset,
    Operator,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.incidents.models import Incident
from crowdship.service.entities.incidents.schemas import IncidentIn, IncidentPublic, ResolveIn
from crowdship.service.routes.contract import refusals
from crowdship.service.workflows import incidents as service

router = APIRouter(route_class=CommittingRoute, tags=["incidents"])


@router.post(
    "/orders/{order_id}/incidents",
    response_model=IncidentPublic,
    status_code=201,
    responses=refusals(403, 409),
)
def report(
    order_id: PathId, data: IncidentIn, actor: CurrentActor, session: WriteSession, context: Context
) -> Incident:
    """A party reports a problem. Before delivery the order fails; after delivery it is
    disputed and held out of settlement until the operator resolves it.

    An order has one open incident at a time once delivered: while it is disputed, another
    report is 409 (`status` `disputed`) naming the open incident. After the operator upholds
    the delivery (`pay`) a new problem may be reported until settlement; a refunded
    (`failed`) or settled order takes none (409)."""
    return service.report(session, context, actor, order_id, data.kind, data.note)


@router.get("/orders/{order_id}/incidents", response_model=list[IncidentPublic])
def order_incidents(order_id: PathId, actor: CurrentActor, session: ReadSession) -> list[Incident]:
    return service.of_order(session, actor, order_id)


@router.get("/incidents", response_model=list[IncidentPublic])
def incidents(
    actor: Operator,
    session: ReadSession,
    open_only: bool = True,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[Incident]:
    """Operator: incidents, newest first (by default only the unresolved ones)."""
    return service.listed(session, actor, open_only, limit, offset)


@router.post(
    "/incidents/{incident_id}/resolve", response_model=IncidentPublic, responses=refusals(409)
)
def resolve(
    incident_id: PathId, data: ResolveIn, actor: Operator, session: WriteSession, context: Context
) -> Incident:
    """Operator: decide a dispute (pay or refund) or close an incident."""
    return service.resolve(session, context, actor, incident_id, data.resolution, data.note)
