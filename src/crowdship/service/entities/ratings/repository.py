"""Every query on ratings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crowdship.service.entities.ratings.models import Rating


def add_once(session: Session, rating: Rating) -> bool:
    """Store the rating; False (nothing stored) if this rater already rated this order."""
    try:
        with session.begin_nested():
            session.add(rating)
    except IntegrityError:
        return False
    return True


def totals(session: Session, courier_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """courier -> (number of ratings, sum of stars), for couriers with any."""
    found: dict[int, tuple[int, int]] = {}
    for chunk in range(0, len(courier_ids), 5000):  # stay under the parameter limits
        part = courier_ids[chunk : chunk + 5000]
        query = (
            select(Rating.courier_id, func.count(), func.sum(Rating.stars))
            .where(Rating.courier_id.in_(part))
            .group_by(Rating.courier_id)
        )
        for courier_id, n, total in session.execute(query):
            found[courier_id] = (int(n), int(total))
    return found


def of_order(session: Session, order_id: int) -> list[Rating]:
    return list(session.scalars(select(Rating).where(Rating.order_id == order_id)))
