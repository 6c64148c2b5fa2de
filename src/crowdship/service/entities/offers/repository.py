from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.accounts.models import User
from crowdship.service.entities.offers.models import REFUSED, MatchingRun, Offer, OfferStatus
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips.models import Trip, TripStatus


def get(session: Session, offer_id: int, for_update: bool = False) -> Offer | None:
    query = select(Offer).where(Offer.id == offer_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def pending_offer_exists(session: Session, trip_id: int) -> bool:
    query = select(Offer.id).where(Offer.trip_id == trip_id, Offer.status == OfferStatus.PENDING)
    return session.scalar(query.limit(1)) is not None


def answer(session: Session, offer_id: int, new: OfferStatus, now: datetime) -> bool:
    """Compare-and-set a pending offer to ``new``."""
    result = session.execute(
        update(Offer)
        .where(Offer.id == offer_id, Offer.status == OfferStatus.PENDING)
        .values(status=new, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def withdraw_pending(
    session: Session, now: datetime, order_id: int | None = None, trip_id: int | None = None
) -> list[tuple[int, int]]:
    """Take back pending offers of an order or a trip; returns their (order, trip) ids."""
    condition = [Offer.status == OfferStatus.PENDING]
    if order_id is not None:
        condition.append(Offer.order_id == order_id)
    if trip_id is not None:
        condition.append(Offer.trip_id == trip_id)
    rows = session.execute(
        update(Offer)
        .where(*condition)
        .values(status=OfferStatus.WITHDRAWN, answered_at=now)
        .returning(Offer.order_id, Offer.trip_id)
        .execution_options(synchronize_session=False)
    ).all()
    return [(row[0], row[1]) for row in rows]


def due_to_expire(session: Session, now: datetime) -> list[tuple[int, int, int]]:
    """Pending offers past their expiry: (offer, order, trip)."""
    query = select(Offer.id, Offer.order_id, Offer.trip_id).where(
        Offer.status == OfferStatus.PENDING, Offer.expires_at <= now
    )
    return [(r[0], r[1], r[2]) for r in session.execute(query)]


def open_orders(session: Session, now: datetime) -> list[Order]:
    query = (
        select(Order)
        .where(Order.status == OrderStatus.POSTED, Order.latest_delivery > now, ~Order.locked)
        .order_by(Order.id)
    )
    return list(session.scalars(query))


def free_trips(session: Session, now: datetime, require_assessment: bool = True) -> list[Trip]:
    """Open trips that have not departed and carry no pending offer, of couriers who may
    work (not suspended; assessed, unless the setting says otherwise)."""
    busy = exists().where(and_(Offer.trip_id == Trip.id, Offer.status == OfferStatus.PENDING))
    may_work = [User.suspended_at.is_(None)]
    if require_assessment:
        may_work.append(User.assessment_passed_at.is_not(None))
    query = (
        select(Trip)
        .join(User, User.id == Trip.courier_id)
        .where(Trip.status == TripStatus.OPEN, Trip.earliest_departure >= now, ~busy, *may_work)
        .order_by(Trip.id)
    )
    return list(session.scalars(query))


def refused_pairs(session: Session, order_ids: list[int]) -> list[tuple[int, int]]:
    """(trip, order) pairs offered before and rejected or left to expire."""
    if not order_ids:
        return []
    query = select(Offer.trip_id, Offer.order_id).where(
        Offer.status.in_(REFUSED), Offer.order_id.in_(order_ids)
    )
    return [(r[0], r[1]) for r in session.execute(query)]


def offers_for(
    session: Session,
    courier_id: int | None,
    status: OfferStatus | None,
    limit: int,
    offset: int,
) -> list[Offer]:
    query = select(Offer).order_by(Offer.id.desc()).limit(limit).offset(offset)
    if courier_id is not None:
        query = query.where(Offer.courier_id == courier_id)
    if status is not None:
        query = query.where(Offer.status == status)
    return list(session.scalars(query))


def runs(session: Session, limit: int) -> list[MatchingRun]:
    query = select(MatchingRun).order_by(MatchingRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def last_run_started(session: Session) -> datetime | None:
    """When the latest batch began, whoever triggered it."""
    query = select(MatchingRun.started_at).order_by(MatchingRun.started_at.desc()).limit(1)
    return session.scalar(query)
