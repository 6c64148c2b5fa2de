from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    Limit,
    Offset,
    Operator,
    PathId,
    Poster,
    ReadSession,
    WriteSession,
    client_address,
)
from crowdship.service.entities.accounts.schemas import CourierCard
from crowdship.service.entities.messages.models import OrderMessage
from crowdship.service.entities.messages.schemas import CallIn, CallPublic, MessageIn, MessagePublic
from crowdship.service.entities.orders import service as orders
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.orders.photos import MAGIC as PHOTO_TYPES
from crowdship.service.entities.orders.schemas import (
    Assignment,
    CodeIn,
    DeliveryIn,
    EventPublic,
    OrderCreate,
    OrderPublic,
    ParcelFields,
    ReassignIn,
)
from crowdship.service.entities.pricing.schemas import QuotePublic
from crowdship.service.routes.contract import refusals
from crowdship.service.routes.idempotency import IdempotencyKey, answer_once
from crowdship.service.schemas import Text
from crowdship.service.workflows import assignment, delivery, messaging, posting

router = APIRouter(route_class=CommittingRoute, tags=["orders"])


@router.post("/quotes", response_model=QuotePublic)
def quote(
    parcel: ParcelFields, actor: CurrentActor, session: ReadSession, context: Context
) -> QuotePublic:
    """The fee an order with these fields would be charged under the tariff in force, its
    parts (base, distance, size, urgency, peak) and the courier's share."""
    fee = posting.quote(session, context, parcel)
    return QuotePublic(**dataclasses.asdict(fee))


@router.post("/orders", response_model=OrderPublic, status_code=201)
def post_order(
    request: Request,
    data: OrderCreate,
    actor: Poster,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Post a parcel (merchants and customers; a pickup point's staff for a parcel waiting
    at their point, with ``from_point_id``); the fee is quoted and stored."""
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        data,
        OrderPublic,
        lambda: posting.post(session, context, actor, data),
        status_code=201,
    )


@router.get("/orders", response_model=list[OrderPublic])
def list_orders(
    actor: CurrentActor,
    session: ReadSession,
    status: OrderStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[Order]:
    """Orders you sent, receive, carry, or (operators) all of them; newest first."""
    return orders.list_visible(session, actor, status, limit, offset)


@router.get("/orders/{order_id}", response_model=OrderPublic)
def get_order(order_id: PathId, actor: CurrentActor, session: ReadSession) -> Order:
    return orders.visible(session, actor, order_id)


@router.get("/orders/{order_id}/events", response_model=list[EventPublic])
def order_events(order_id: PathId, actor: CurrentActor, session: ReadSession) -> list[OrderEvent]:
    """Every transition of the order: who, when, from, to."""
    return orders.events(session, actor, order_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderPublic, responses=refusals(403, 409))
def cancel_order(
    order_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> Order:
    """The sender cancels before pickup."""
    return assignment.cancel_order(session, context, actor, order_id)


@router.post(
    "/orders/{order_id}/withdraw", response_model=OrderPublic, responses=refusals(403, 409)
)
def withdraw_order(
    order_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> Order:
    """The courier gives an accepted order back (within the withdrawal window)."""
    return assignment.withdraw(session, context, actor, order_id)


@router.post(
    "/orders/{order_id}/pickup-code", response_model=Assignment, responses=refusals(403, 409)
)
def new_pickup_code(
    order_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> Assignment:
    """The courier gets a fresh pickup code (the old one stops working)."""
    order, code = delivery.reissue_pickup_code(session, context, actor, order_id)
    return Assignment.of(order, code)


@router.post(
    "/orders/{order_id}/pickup",
    response_model=OrderPublic,
    responses=refusals(403, 409, 423, 429),
)
def confirm_pickup(
    request: Request,
    order_id: PathId,
    body: CodeIn,
    actor: CurrentActor,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The sender enters the courier's pickup code; the receiver then gets a delivery code.
    Code entries are limited per account and per client address (429 with ``Retry-After``)."""
    context.limits.code_entry(actor.id, client_address(request))
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        body,
        OrderPublic,
        lambda: delivery.confirm_pickup(session, context, actor, order_id, body.code),
    )


@router.post(
    "/orders/{order_id}/deliver",
    response_model=OrderPublic,
    responses=refusals(403, 409, 423, 429),
)
def deliver(
    request: Request,
    order_id: PathId,
    body: DeliveryIn,
    actor: CurrentActor,
    session: WriteSession,
    context: Context,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The courier enters the receiver's code to complete the delivery (and, for cash on
    delivery, the cash collected, which must be the fee; optionally a photo of the delivered
    parcel as proof, shown to the parties at ``GET /orders/{id}/photo``). Code entries are
    limited as at pickup."""
    context.limits.code_entry(actor.id, client_address(request))
    cash, photo = body.cash_collected_cents, body.photo
    return answer_once(
        request,
        session,
        context,
        actor,
        key,
        body,
        OrderPublic,
        lambda: delivery.deliver(session, context, actor, order_id, body.code, cash, photo),
    )


@router.get(
    "/orders/{order_id}/photo",
    response_class=Response,
    responses={
        200: {
            "description": "the photo",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
        }
    },
)
def delivery_photo(order_id: PathId, actor: CurrentActor, session: ReadSession) -> Response:
    """The courier's proof-of-delivery photo, for the order's parties."""
    photo = delivery.proof_photo(session, actor, order_id)
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/orders/{order_id}/arrive", response_model=OrderPublic, responses=refusals(403, 409))
def arrive_at_point(
    order_id: PathId, actor: CurrentActor, session: WriteSession, context: Context
) -> Order:
    """Pickup-point staff: the courier handed the parcel over; their delivery is done."""
    return delivery.arrive_at_point(session, context, actor, order_id)


@router.post(
    "/orders/{order_id}/collect",
    response_model=OrderPublic,
    responses=refusals(403, 409, 423, 429),
)
def collect(
    request: Request,
    order_id: PathId,
    body: CodeIn,
    actor: CurrentActor,
    session: WriteSession,
    context: Context,
) -> Order:
    """Pickup-point staff: the receiver collects the parcel, giving the code they got. Code
    entries are limited as at pickup."""
    context.limits.code_entry(actor.id, client_address(request))
    return delivery.collect(session, context, actor, order_id, body.code)


@router.post("/orders/{order_id}/unlock", response_model=OrderPublic, responses=refusals(409))
def unlock(order_id: PathId, actor: Operator, session: WriteSession, context: Context) -> Order:
    """Operator: release an order locked by wrong codes and send fresh ones."""
    return delivery.unlock(session, context, actor, order_id)


@router.post("/orders/{order_id}/fail", response_model=OrderPublic, responses=refusals(409))
def fail(
    order_id: PathId,
    actor: Operator,
    session: WriteSession,
    context: Context,
    note: Annotated[Text, Body(embed=True, max_length=300)] = "",
) -> Order:
    """Operator: give up on an order a courier carries."""
    return delivery.fail(session, context, actor, order_id, note)


@router.post("/orders/{order_id}/release", response_model=OrderPublic, responses=refusals(409))
def release(
    order_id: PathId,
    actor: Operator,
    session: WriteSession,
    context: Context,
    note: Annotated[Text, Body(embed=True, max_length=300)] = "",
) -> Order:
    """Operator: put a courier's accepted order back in the pool. After the withdrawal
    window it counts against the courier (``late_releases`` in their reliability)."""
    return assignment.release(session, context, actor, order_id, note)


@router.post("/orders/{order_id}/reassign", response_model=OrderPublic, responses=refusals(409))
def reassign(
    order_id: PathId, body: ReassignIn, actor: Operator, session: WriteSession, context: Context
) -> Order:
    """Operator: move an accepted or open order onto another courier's open trip that can
    carry it; that courier gets the pickup code from ``POST /orders/{id}/pickup-code``."""
    return assignment.reassign(session, context, actor, order_id, body.trip_id, body.note)


@router.get("/orders/{order_id}/messages", response_model=list[MessagePublic])
def messages(order_id: PathId, actor: CurrentActor, session: ReadSession) -> list[OrderMessage]:
    """The order's thread between its courier, sender and receiver (and the operator)."""
    return messaging.thread(session, actor, order_id)


@router.post(
    "/orders/{order_id}/messages",
    response_model=MessagePublic,
    status_code=201,
    responses=refusals(409),
)
def write_message(
    order_id: PathId, body: MessageIn, actor: CurrentActor, session: WriteSession, context: Context
) -> OrderMessage:
    """Write to the order's other parties while a courier carries it; nobody's phone number
    is shown to anybody."""
    return messaging.write(session, context, actor, order_id, body.body)


@router.get("/orders/{order_id}/courier", response_model=CourierCard)
def courier_card(
    order_id: PathId, actor: CurrentActor, session: ReadSession, context: Context
) -> messaging.CourierCard:
    """Who carries the order: first name, rating and the trip's vehicle, so the shop can
    check the courier at pickup."""
    return messaging.courier_card(session, context, actor, order_id)


@router.post("/orders/{order_id}/call", response_model=CallPublic, responses=refusals(409))
def call(
    order_id: PathId, body: CallIn, actor: CurrentActor, session: ReadSession, context: Context
) -> CallPublic:
    """A masked number to call another party of the order (where a telephony provider is
    configured): the courier calls the sender or the receiver, they call the courier;
    nobody learns anybody's number."""
    bridge = messaging.call(session, context, actor, order_id, body.to)
    return CallPublic(masked_number=bridge.masked_number, expires_at=bridge.expires_at)
