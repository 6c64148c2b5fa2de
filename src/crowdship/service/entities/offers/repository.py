"""Every query on offers and matching runs. Status changes go through ``transition`` and
``transition_many``, guarded by the offer transition table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.orm import Session

from crowdship.service.entities.offers.lifecycle import TRANSITIONS, OfferAction
from crowdship.service.entities.offers.models import MatchingRun, Offer, OfferStatus
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order


@dataclass(frozen=True, order=True)
class OfferRef:
    """Which offer, for which order, to which trip."""

    offer_id: int
    order_id: int
    trip_id: int


@dataclass(frozen=True)
class Pair:
    """A (trip, order) pair."""

    trip_id: int
    order_id: int


def get(session: Session, offer_id: int, for_update: bool = False) -> Offer | None:
    query = select(Offer).where(Offer.id == offer_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).first()


def transition(session: Session, offer_id: int, action: OfferAction, now: datetime) -> bool:
    """Compare-and-set one offer: True if it was in the action's source state."""
    source, to = TRANSITIONS[action]
    result = session.execute(
        update(Offer)
        .where(Offer.id == offer_id, Offer.status == source)
        .values(status=to, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def transition_many(
    session: Session,
    action: OfferAction,
    now: datetime,
    *,
    order_id: int | None = None,
    trip_id: int | None = None,
    courier_id: int | None = None,
) -> list[OfferRef]:
    """Apply ``action`` to every offer of an order, a trip or a courier (or their
    intersection) that is in the action's source state; the offers it moved."""
    source, to = TRANSITIONS[action]
    condition = [Offer.status == source]
    if order_id is not None:
        condition.append(Offer.order_id == order_id)
    if trip_id is not None:
        condition.append(Offer.trip_id == trip_id)
    if courier_id is not None:
        condition.append(Offer.courier_id == courier_id)
    rows = session.execute(
        update(Offer)
        .where(*condition)
        .values(status=to, answered_at=now)
        .returning(Offer.id, Offer.order_id, Offer.trip_id)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(OfferRef(*row) for row in rows) if rows else []


def pending_offer_exists(session: Session, trip_id: int) -> bool:
    query = select(Offer.id).where(Offer.trip_id == trip_id, Offer.status == OfferStatus.PENDING)
    return session.scalar(query.limit(1)) is not None


def busy_trips() -> Select[Any]:
    """A query of the trips that wait for an answer to a pending offer."""
    return select(Offer.trip_id).where(Offer.status == OfferStatus.PENDING)


def busy_among(session: Session, trip_ids: set[int]) -> set[int]:
    query = select(Offer.trip_id).where(
        Offer.trip_id.in_(trip_ids), Offer.status == OfferStatus.PENDING
    )
    return set(session.scalars(query))


def due_to_expire(session: Session, now: datetime) -> list[OfferRef]:
    """Pending offers past their expiry."""
    query = select(Offer.id, Offer.order_id, Offer.trip_id).where(
        Offer.status == OfferStatus.PENDING, Offer.expires_at <= now
    )
    return [OfferRef(*row) for row in session.execute(query)]


def offered_pairs(session: Session, order_ids: Sequence[int]) -> list[Pair]:
    """Pairs of these orders offered before, whatever became of the offer: never offered
    again (a pair has one offer, ``offers``' unique key). Rejected or expired, the courier
    refused it; withdrawn, the courier gave it back, or the platform took it back from a
    courier suspended since or a trip that had departed. It only went back to ``posted``
    that way; it is not the batch's to offer it again (the courier may still grab it)."""
    if not order_ids:
        return []
    query = select(Offer.trip_id, Offer.order_id).where(Offer.order_id.in_(order_ids))
    return [Pair(*row) for row in session.execute(query)]


def offered_before(session: Session, order_id: int, trip_id: int) -> Offer | None:
    """The pair's one offer, if it has been offered."""
    query = select(Offer).where(Offer.order_id == order_id, Offer.trip_id == trip_id)
    return session.scalars(query).first()


@dataclass(frozen=True)
class NewOffer:
    order_id: int
    trip_id: int
    courier_id: int
    detour_min: float
    planned_pickup: datetime
    planned_delivery: datetime


def add_many(
    session: Session,
    run_id: int | None,
    offers: Sequence[NewOffer],
    now: datetime,
    expires: datetime,
) -> None:
    if not offers:
        return
    session.execute(
        insert(Offer),
        [
            {
                "order_id": o.order_id,
                "trip_id": o.trip_id,
                "courier_id": o.courier_id,
                "run_id": run_id,
                "status": OfferStatus.PENDING,
                "detour_min": o.detour_min,
                "planned_pickup": o.planned_pickup,
                "planned_delivery": o.planned_delivery,
                "created_at": now,
                "expires_at": expires,
            }
            for o in offers
        ],
    )


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


def answers_by_courier(session: Session, courier_ids: Sequence[int]) -> Counter[tuple[int, str]]:
    """Offers per courier and state: (courier, status) -> count."""
    counts: Counter[tuple[int, str]] = Counter()
    query = (
        select(Offer.courier_id, Offer.status, func.count())
        .where(Offer.courier_id.in_(courier_ids))
        .group_by(Offer.courier_id, Offer.status)
    )
    for courier_id, status, n in session.execute(query):
        counts[(int(courier_id), str(status))] = int(n)
    return counts


# -- matching runs -------------------------------------------------------------------------


def start_run(session: Session, **values: Any) -> MatchingRun:
    run = MatchingRun(**values)
    session.add(run)
    session.flush()
    return run


def runs(session: Session, limit: int) -> list[MatchingRun]:
    query = select(MatchingRun).order_by(MatchingRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def last_run_started(session: Session) -> datetime | None:
    """When the latest batch began, whoever triggered it."""
    query = select(MatchingRun.started_at).order_by(MatchingRun.started_at.desc()).limit(1)
    return session.scalar(query)


def accepted_detours(session: Session, start: datetime, end: datetime) -> list[float]:
    """Detour minutes of the offers accepted in a window."""
    query = select(Offer.detour_min).where(
        Offer.status == OfferStatus.ACCEPTED, Offer.answered_at >= start, Offer.answered_at < end
    )
    return [float(d) for d in session.scalars(query)]


def answers_between(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Offers made in a window, by what became of them."""
    query = (
        select(Offer.status, func.count())
        .where(Offer.created_at >= start, Offer.created_at < end)
        .group_by(Offer.status)
    )
    return {status.value: int(n) for status, n in session.execute(query)}


def pending_for_couriers(session: Session, courier_ids: set[int]) -> list[tuple[Offer, Order]]:
    """Pending offers to these couriers, with their orders (the living demo answers them)."""
    if not courier_ids:
        return []
    query = (
        select(Offer, Order)
        .join(Order, Order.id == Offer.order_id)
        .where(Offer.status == OfferStatus.PENDING, Offer.courier_id.in_(courier_ids))
        .order_by(Offer.id)
    )
    return [(offer, order) for offer, order in session.execute(query)]


@dataclass(frozen=True)
class Carried:
    """An order a courier carries, with when its offer planned the pickup and delivery."""

    order: Order
    planned_pickup: datetime | None  # None: no accepted offer (grabbed or dispatched)
    planned_delivery: datetime | None


def carried_by(session: Session, courier_ids: set[int]) -> list[Carried]:
    if not courier_ids:
        return []
    query = (
        select(Order, Offer.planned_pickup, Offer.planned_delivery)
        .outerjoin(
            Offer,
            (Offer.order_id == Order.id)
            & (Offer.courier_id == Order.courier_id)
            & (Offer.status == OfferStatus.ACCEPTED),
        )
        .where(
            Order.courier_id.in_(courier_ids),
            Order.status.in_((OrderStatus.ACCEPTED, OrderStatus.PICKED_UP)),
        )
        .order_by(Order.id)
    )
    return [Carried(o, p, d) for o, p, d in session.execute(query)]


def pending_for(session: Session, order_id: int, trip_id: int) -> Offer:
    """The pending offer of this order to this trip (just written)."""
    query = select(Offer).where(
        Offer.order_id == order_id, Offer.trip_id == trip_id, Offer.status == OfferStatus.PENDING
    )
    return session.scalars(query).one()


def outcomes_by_run(session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """For each run, how many of its offers ended in each state."""
    if not run_ids:
        return {}
    query = (
        select(Offer.run_id, Offer.status, func.count())
        .where(Offer.run_id.in_(run_ids))
        .group_by(Offer.run_id, Offer.status)
    )
    found: dict[int, dict[str, int]] = {}
    for run_id, status, n in session.execute(query):
        if run_id is not None:
            found.setdefault(int(run_id), {})[status.value] = int(n)
    return found
