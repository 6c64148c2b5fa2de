"""Rating a courier once per side (sender, receiver) after delivery. Never commits."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import HANDED_OVER
from crowdship.service.entities.ratings import repository as ratings
from crowdship.service.entities.ratings.models import Rating
from crowdship.service.entities.ratings.schemas import RatingIn
from crowdship.service.errors import Conflict, Forbidden


def rate(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, data: RatingIn
) -> Rating:
    order = order_access.visible(session, actor, order_id)
    if order.sender_id == actor.id:
        role = "sender"
    elif actor.role == Role.CUSTOMER and actor.phone == order.receiver_phone:
        role = "receiver"
    else:
        raise Forbidden(f"only the sender or the receiver of order {order_id} rate its courier")
    courier_id = order.courier_id
    if order.status not in HANDED_OVER or courier_id is None:
        raise Conflict(
            f"order {order_id} is {order.status.value}; couriers are rated after delivery",
            status=order.status.value,
        )
    rating = Rating(
        order_id=order_id,
        courier_id=courier_id,
        rater_id=actor.id,
        rater_role=role,
        stars=data.stars,
        comment=data.comment,
        created_at=context.clock.now(),
    )
    if not ratings.add_once(session, rating):
        raise Conflict(
            f"the {role} has already rated the courier of order {order_id}", status="rated"
        )
    return rating


def of_order(session: Session, actor: Actor, order_id: int) -> list[Rating]:
    order_access.visible(session, actor, order_id)
    return ratings.of_order(session, order_id)
