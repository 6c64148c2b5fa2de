from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    Courier,
    CurrentActor,
    Limit,
    Offset,
    Operator,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.offers.models import MatchingRun, Offer, OfferStatus
from crowdship.service.entities.offers.schemas import (
    FittingOrder,
    HandOfferIn,
    MatchingRunPublic,
    OfferPublic,
)
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.orders.schemas import Assignment, GrabIn, OrderSummary
from crowdship.service.errors import Conflict
from crowdship.service.routes.contract import refusals
from crowdship.service.routes.idempotency import IdempotencyKey, answer_once
from crowdship.service.workflows import assignment, matching

router = APIRouter(route_class=CommittingRoute, tags=["matching"])


@router.get("/offers", response_model=list[OfferPublic], responses=refusals(403))
def list_offers(
    actor: CurrentActor,
    session: ReadSession,
    status: OfferStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[OfferPublic]:
    """A courier's offers (operators: all), newest first."""
    found = assignment.list_offers(session, actor, status, limit, offset)
    return [_offer_public(offer, order) for offer, order in found]


def _offer_public(offer: Offer, order: Order) -> OfferPublic:
    fields = {name: getattr(offer, name) for name in OfferPublic.model_fields if name != "order"}
    return OfferPublic.model_validate({**fields, "order": OrderSummary.model_validate(order)})


@router.post("/offers/{offer_id}/accept", response_model=Assignment, responses=refusals(403, 409))
def accept_offer(
    request: Request,
    offer_id: PathId,
    actor: CurrentActor,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Accept an offer before it expires; the answer holds the pickup code."""
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        None,
        Assignment,
        lambda: Assignment.of(*assignment.accept(session, context, actor, offer_id)),
    )


@router.post("/offers/{offer_id}/reject", response_model=OfferPublic, responses=refusals(403, 409))
def reject_offer(
    offer_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> OfferPublic:
    """Reject an offer; this pair is never offered again."""
    offer, order = assignment.reject(session, context, actor, offer_id)
    return _offer_public(offer, order)


@router.get(
    "/trips/{trip_id}/fitting-orders",
    response_model=list[FittingOrder],
    responses=refusals(403, 409),
)
def fitting_orders(
    trip_id: PathId,
    actor: CurrentActor,
    session: ReadSession,
    context: Context,
    limit: Limit = 50,
) -> list[FittingOrder]:
    """Open orders this trip can carry (same feasibility rule as the matcher)."""
    return [
        FittingOrder(
            order=OrderSummary.model_validate(fit.order),
            detour_min=fit.detour_min,
            planned_pickup=fit.planned_pickup,
            planned_delivery=fit.planned_delivery,
        )
        for fit in assignment.fitting_orders(session, context, actor, trip_id, limit)
    ]


@router.post("/orders/{order_id}/grab", response_model=Assignment, responses=refusals(409))
def grab(
    request: Request,
    order_id: PathId,
    body: GrabIn,
    actor: Courier,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Take an open order onto one of your trips; if two couriers grab at once, one wins."""
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        body,
        Assignment,
        lambda: Assignment.of(*assignment.grab(session, context, actor, order_id, body.trip_id)),
    )


@router.post("/matching/run", response_model=MatchingRunPublic, responses=refusals(409))
async def run_now(actor: Operator, context: Context) -> MatchingRun:
    """Operator: run one matching batch now (the job also runs every planning interval)."""
    run = await run_in_threadpool(matching.run_matching, context, "operator")
    if run is None:  # pragma: no cover - only with only_if_due
        raise Conflict("matching run skipped")
    return run


@router.post(
    "/matching/offers",
    response_model=OfferPublic,
    status_code=201,
    responses=refusals(404, 409, 422),
)
def offer_by_hand(
    body: HandOfferIn, actor: Operator, session: WriteSession, context: Context
) -> OfferPublic:
    """Operator: offer an open order to one trip's courier (the dispatch board). The pair
    must fit the rule; if it does not, the 422 says which part it breaks."""
    offer, order = matching.offer_by_hand(session, context, actor, body.order_id, body.trip_id)
    return _offer_public(offer, order)


@router.get("/matching/runs", response_model=list[MatchingRunPublic], responses=refusals(403))
def list_runs(
    actor: CurrentActor, session: ReadSession, limit: Limit = 20
) -> list[MatchingRunPublic]:
    """Operator: the latest matching batches."""
    return matching.runs(session, actor, limit)
