from __future__ import annotations

from fastapi import APIRouter

from crowdship.service.deps import (
    CommittingRoute,
    Context,
    CurrentActor,
    Limit,
    Operator,
    PathId,
    ReadSession,
    WriteSession,
)
from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.accounts.schemas import ChannelIn, UserPublic
from crowdship.service.entities.notifications.models import Notification, NotificationStatus
from crowdship.service.entities.notifications.schemas import NotificationPublic
from crowdship.service.entities.orders.schemas import TrackingPublic
from crowdship.service.routes.contract import refusals
from crowdship.service.schemas import IdParam
from crowdship.service.workflows import messaging, notifying

router = APIRouter(route_class=CommittingRoute, tags=["notifications"])


@router.get("/notifications", response_model=list[NotificationPublic])
def notifications(
    actor: CurrentActor,
    session: ReadSession,
    status: NotificationStatus | None = None,
    order_id: IdParam | None = None,
    limit: Limit = 100,
) -> list[Notification]:
    """Operators: every notification, e.g. ``status=failed`` to see sends that gave up;
    everyone else: the notifications sent to them."""
    return notifying.listed(session, actor, status, order_id, limit)


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationPublic,
    responses=refusals(409),
)
def retry(
    notification_id: PathId, actor: Operator, session: WriteSession, context: Context
) -> Notification:
    """Operator: send a failed notification again."""
    return notifying.retry(session, context, actor, notification_id)


@router.put("/me/notifications", response_model=UserPublic)
def choose_channel(data: ChannelIn, actor: CurrentActor, session: WriteSession) -> User:
    """How you want to hear from crowdship: sms (default), email or webhook."""
    return notifying.choose_channel(session, actor, data.channel)


@router.get("/track/{token}", response_model=TrackingPublic)
def track(token: str, session: ReadSession, context: Context) -> TrackingPublic:
    """The receiver's tracking link (sent with every state change): no login; the token
    opens this one order's page and nothing else."""
    order, door_code = notifying.track(session, context, token[:64])
    card = messaging.public_card(session, context, order)
    return TrackingPublic(
        order_id=order.id,
        status=order.status,
        earliest_pickup=order.earliest_pickup,
        latest_delivery=order.latest_delivery,
        delivery_address=order.delivery_address,
        courier_first_name=card.first_name if card else None,
        courier_rating=card.rating if card else None,
        door_code=door_code,
    )
