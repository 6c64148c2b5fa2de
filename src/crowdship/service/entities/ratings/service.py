"""Rating a courier once per side after delivery; the courier's Bayesian score.

score = (C x m + sum of stars) / (C + n), with prior mean m and weight C from the settings:
a new courier starts at m, and a few ratings move the score only a little."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders.lifecycle import HANDED_OVER
from crowdship.service.entities.ratings.models import Rating
from crowdship.service.entities.ratings.schemas import RatingIn, Score
from crowdship.service.errors import Conflict, Forbidden
from crowdship.service.workflows import orders_tmp as orders


def rate(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, data: RatingIn
) -> Rating:
    order = orders.visible(session, actor, order_id)
    if order.sender_id == actor.id:
        role = "sender"
    elif actor.role == Role.CUSTOMER and actor.phone == order.receiver_phone:
        role = "receiver"
    else:
        raise Forbidden(f"only the sender or the receiver of order {order_id} rate its courier")
    courier_id = orders.courier_of(session, order)
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
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError as error:
        raise Conflict(
            f"the {role} has already rated the courier of order {order_id}", status="rated"
        ) from error
    return rating


def bayesian(total: float, n: int, prior_mean: float, prior_weight: float) -> float:
    if n == 0 and prior_weight == 0:
        return prior_mean
    return (prior_weight * prior_mean + total) / (prior_weight + n)


def scores(
    session: Session, context: ServiceContext, courier_ids: Iterable[int]
) -> dict[int, Score]:
    """Every given courier's score (the prior mean for couriers without ratings)."""
    ids = sorted(set(courier_ids))
    s = context.settings
    found: dict[int, tuple[int, int]] = {}
    for chunk in range(0, len(ids), 5000):  # stay under the databases' parameter limits
        part = ids[chunk : chunk + 5000]
        query = (
            select(Rating.courier_id, func.count(), func.sum(Rating.stars))
            .where(Rating.courier_id.in_(part))
            .group_by(Rating.courier_id)
        )
        for courier_id, n, total in session.execute(query):
            found[courier_id] = (int(n), int(total))
    out = {}
    for courier_id in ids:
        n, total = found.get(courier_id, (0, 0))
        out[courier_id] = Score(
            courier_id=courier_id,
            score=round(bayesian(total, n, s.rating_prior_mean, s.rating_prior_weight), 4),
            ratings=n,
            mean=round(total / n, 4) if n else None,
        )
    return out


def of_order(session: Session, actor: Actor, order_id: int) -> list[Rating]:
    orders.visible(session, actor, order_id)
    return list(session.scalars(select(Rating).where(Rating.order_id == order_id)))
