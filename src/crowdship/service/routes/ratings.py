from __future__ import annotations

from fastapi import APIRouter

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.ratings.models import Rating
from crowdship.service.entities.ratings.schemas import RatingIn, RatingPublic
from crowdship.service.routes.contract import refusals
from crowdship.service.workflows import rating as service

router = APIRouter(route_class=CommittingRoute, tags=["ratings"])


@router.post(
    "/orders/{order_id}/rating",
    response_model=RatingPublic,
    status_code=201,
    responses=refusals(403, 409),
)
def rate_courier(
    order_id: PathId, data: RatingIn, actor: CurrentActor, session: WriteSession, context: Context
) -> Rating:
    """Sender or receiver: rate the courier 1 to 5 stars, once each, after delivery. The
    courier's score feeds the matcher's cost."""
    return service.rate(session, context, actor, order_id, data)


@router.get("/orders/{order_id}/ratings", response_model=list[RatingPublic])
def order_ratings(order_id: PathId, actor: CurrentActor, session: ReadSession) -> list[Rating]:
    return service.of_order(session, actor, order_id)
