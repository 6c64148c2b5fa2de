"""The rolling-horizon job, offers, and grabbing: every pairing goes through the core's
feasibility rule and matcher. Never commits, except ``run_matching``, which is a job (its
own transactions), not a request."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from crowdship.core import CostFunction, match, policy_named, schedule
from crowdship.service.context import ServiceContext
from crowdship.service.deps import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.offers import repository
from crowdship.service.entities.offers.models import MatchingRun, Offer, OfferStatus
from crowdship.service.entities.orders import handover
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import OPEN_STATES, Action, OrderStatus
from crowdship.service.entities.orders.models import Order, OrderEvent
from crowdship.service.entities.ratings import service as ratings
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips import service as trip_service
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.lock import job_lock
from crowdship.service.workflows import core_model as bridge
from crowdship.service.workflows import trust as couriers
from crowdship.service.workflows.orders_tmp import fresh

log = logging.getLogger("crowdship.matching")


class OfferExpired(Conflict):
    """The offer ran out before the answer; its expiry is recorded."""

    keep_changes = True


# -- offers -----------------------------------------------------------------------------


def _own_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    actor.require(Role.COURIER)
    offer = repository.get(session, offer_id, for_update=True)
    if offer is None or offer.courier_id != actor.id:
        raise NotFound(f"offer {offer_id} not found")
    return offer


def _expire_offer(session: Session, offer: Offer, now: datetime) -> bool:
    if not repository.answer(session, offer.id, OfferStatus.EXPIRED, now):
        return False
    orders.transition(
        session,
        offer.order_id,
        Action.OFFER_EXPIRE,
        None,
        now,
        note=f"offer {offer.id} to trip {offer.trip_id} was not answered in time",
    )
    return True


def accept(
    session: Session, context: ServiceContext, actor: Actor, offer_id: int
) -> tuple[Order, str]:
    offer = _own_offer(session, actor, offer_id)
    now = context.clock.now()
    if offer.status == OfferStatus.PENDING and offer.expires_at <= now:
        _expire_offer(session, offer, now)
        raise OfferExpired(
            f"offer {offer_id} expired at {offer.expires_at:%H:%M:%S} UTC", status="expired"
        )
    if not repository.answer(session, offer_id, OfferStatus.ACCEPTED, now):
        raise Conflict(f"offer {offer_id} is {offer.status.value}", status=offer.status.value)
    if not trips.set_status(session, offer.trip_id, TripStatus.OPEN, TripStatus.ASSIGNED, now):
        raise Conflict(f"trip {offer.trip_id} is no longer open", status=offer.status.value)
    orders.transition(
        session,
        offer.order_id,
        Action.ACCEPT,
        actor.id,
        now,
        trip_id=offer.trip_id,
        accepted_at=now,
    )
    code = handover.issue_pickup_code(session, context, offer.order_id, now)
    return fresh(session, offer.order_id), code


def reject(
    session: Session, context: ServiceContext, actor: Actor, offer_id: int
) -> tuple[Offer, Order]:
    offer = _own_offer(session, actor, offer_id)
    now = context.clock.now()
    if not repository.answer(session, offer_id, OfferStatus.REJECTED, now):
        raise Conflict(f"offer {offer_id} is {offer.status.value}", status=offer.status.value)
    orders.transition(
        session,
        offer.order_id,
        Action.REJECT,
        actor.id,
        now,
        note=f"offer {offer_id} to trip {offer.trip_id} rejected",
    )
    session.refresh(offer)
    return offer, fresh(session, offer.order_id)


def list_offers(
    session: Session, actor: Actor, status: OfferStatus | None, limit: int, offset: int
) -> list[tuple[Offer, Order]]:
    actor.require(Role.COURIER, Role.OPERATOR)
    courier = None if actor.role == Role.OPERATOR else actor.id
    found = repository.offers_for(session, courier, status, limit, offset)
    order_by_id = {
        o.id: o
        for o in session.scalars(select(Order).where(Order.id.in_({f.order_id for f in found})))
    }
    return [(f, order_by_id[f.order_id]) for f in found]


# -- expiry -----------------------------------------------------------------------------


def expire_offers(session: Session, now: datetime) -> int:
    """Unanswered offers past their time count as rejections; their orders return."""
    expired = 0
    for offer_id, _order_id, _trip_id in repository.due_to_expire(session, now):
        offer = repository.get(session, offer_id)
        if offer is not None and _expire_offer(session, offer, now):
            expired += 1
    return expired


def expire_orders(session: Session, context: ServiceContext, now: datetime) -> int:
    """Open orders whose latest delivery can no longer be met, even driving straight there."""
    rows = session.execute(
        select(
            Order.id,
            Order.pickup_lat,
            Order.pickup_lon,
            Order.delivery_lat,
            Order.delivery_lon,
            Order.latest_delivery,
        ).where(Order.status.in_(OPEN_STATES))
    ).all()
    if not rows:
        return 0
    coords = np.array([r[1:5] for r in rows], dtype=np.float64)
    drive = context.travel.pairwise(coords[:, 0:2], coords[:, 2:4])
    left = np.array([(r[5] - now).total_seconds() / 60 for r in rows])
    expired = 0
    for k in np.flatnonzero(drive > left).tolist():
        order_id = rows[k][0]
        repository.withdraw_pending(session, now, order_id=order_id)
        orders.transition(
            session,
            order_id,
            Action.EXPIRE,
            None,
            now,
            note=f"latest delivery {rows[k][5]:%H:%M} UTC can no longer be met",
        )
        expired += 1
    return expired


# -- the rolling-horizon job ------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    orders: list[Order]
    trips: list[Trip]
    refused: list[tuple[str, str]]
    rating: dict[int, float]  # courier -> Bayesian score


def _load(context: ServiceContext, now: datetime) -> Loaded:
    with context.db.read() as session:
        open_orders = repository.open_orders(session, now)
        free = repository.free_trips(session, now, context.settings.assessment_required)
        refused = repository.refused_pairs(session, [o.id for o in open_orders])
        scored = ratings.scores(session, context, {t.courier_id for t in free})
    return Loaded(
        open_orders,
        free,
        [(str(t), str(o)) for t, o in refused],
        {courier: s.score for courier, s in scored.items()},
    )


def cost_function(context: ServiceContext) -> CostFunction:
    """Detour minutes, plus the rating term: a 1-star courier costs ``rating_weight``
    minutes more than a 5-star one."""
    return CostFunction.weighted(rating=context.settings.rating_weight)


def run_matching(
    context: ServiceContext, trigger: str, only_if_due: timedelta | None = None
) -> MatchingRun | None:
    """One batch: expire what is due, match open orders to free trips with the core, send
    offers. None if another process is running the job or (``only_if_due``) it ran lately."""
    with job_lock(context.db, "matching") as held:
        if not held:
            if only_if_due is not None:
                return None
            raise Conflict(
                "a matching run is already in progress; try again shortly", status="running"
            )
        now = context.clock.now()
        if only_if_due is not None:
            with context.db.read() as session:
                last = repository.last_run_started(session)
            if last is not None and now - last < only_if_due:
                return None
        with context.db.write() as session:
            expired_offers = expire_offers(session, now)
            expired_orders = expire_orders(session, context, now)
            session.commit()
        clock = time.perf_counter()
        loaded = _load(context, now)
        load_s = time.perf_counter() - clock

        clock = time.perf_counter()
        pairs: list[tuple[int, int, float, datetime, datetime]] = []
        feasible = 0
        if loaded.orders and loaded.trips:
            result = match(
                bridge.core_trips(loaded.trips, now, loaded.rating),
                bridge.core_requests(loaded.orders, now),
                context.travel,
                cost=cost_function(context),
                policy=policy_named(context.settings.policy),
                exclude=loaded.refused,
            )
            feasible = result.stats.feasible_pairs
            pairs = [
                (
                    int(m.trip_id),
                    int(m.request_id),
                    m.detour_min,
                    bridge.at_minutes(now, m.pickup_time),
                    bridge.at_minutes(now, m.delivery_time),
                )
                for m in result.assignment.matches()
            ]
        match_s = time.perf_counter() - clock

        clock = time.perf_counter()
        with context.db.write() as session:
            run = MatchingRun(
                trigger=trigger,
                started_at=now,
                open_orders=len(loaded.orders),
                free_trips=len(loaded.trips),
                feasible_pairs=feasible,
            )
            session.add(run)
            session.flush()
            sent = _send_offers(session, context, run.id, pairs, now)
            run.offers = len(sent)
            run.total_detour_min = float(sum(p[2] for p in sent))
            run.load_s, run.match_s = load_s, match_s
            run.write_s = time.perf_counter() - clock
            run.finished_at = context.clock.now()
            session.commit()
        log.info(
            "matching run %d (%s): %d open orders, %d free trips, %d feasible pairs, %d offers "
            "sent, %d offers and %d orders expired; load %.2fs match %.2fs write %.2fs",
            run.id,
            trigger,
            run.open_orders,
            run.free_trips,
            feasible,
            run.offers,
            expired_offers,
            expired_orders,
            load_s,
            match_s,
            run.write_s,
        )
        return run


def _send_offers(
    session: Session,
    context: ServiceContext,
    run_id: int,
    pairs: list[tuple[int, int, float, datetime, datetime]],
    now: datetime,
) -> list[tuple[int, int, float, datetime, datetime]]:
    """Write offers for the pairs whose order and trip are still free, all at once.

    Orders and trips may have moved since they were loaded (a grab, a cancellation), so
    both are re-read under lock and only untouched pairs are offered; the order's
    posted -> offered step is still one guarded UPDATE."""
    if not pairs:
        return []
    order_ids = [p[1] for p in pairs]
    trip_ids = [p[0] for p in pairs]
    still_posted = set(
        session.scalars(
            select(Order.id)
            .where(Order.id.in_(order_ids), Order.status == OrderStatus.POSTED)
            .with_for_update()
        )
    )
    busy = set(
        session.scalars(
            select(Offer.trip_id).where(
                Offer.trip_id.in_(trip_ids), Offer.status == OfferStatus.PENDING
            )
        )
    )
    still_open = (
        set(
            session.scalars(
                select(Trip.id)
                .where(Trip.id.in_(trip_ids), Trip.status == TripStatus.OPEN)
                .with_for_update()
            )
        )
        - busy
    )
    keep = [p for p in pairs if p[1] in still_posted and p[0] in still_open]
    if not keep:
        return []
    kept_orders = [p[1] for p in keep]
    updated = session.execute(
        update(Order)
        .where(Order.id.in_(kept_orders), Order.status == OrderStatus.POSTED)
        .values(status=OrderStatus.OFFERED, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if updated != len(keep):  # cannot happen under the row locks; refuse rather than guess
        raise Conflict("orders changed while offers were written; the run is rolled back")
    courier_of = {
        trip_id: courier_id
        for trip_id, courier_id in session.execute(
            select(Trip.id, Trip.courier_id).where(Trip.id.in_(trip_ids))
        )
    }
    expires = now + timedelta(minutes=context.settings.offer_ttl_min)
    session.execute(
        insert(Offer),
        [
            {
                "order_id": order_id,
                "trip_id": trip_id,
                "courier_id": courier_of[trip_id],
                "run_id": run_id,
                "status": OfferStatus.PENDING,
                "detour_min": detour,
                "planned_pickup": pickup,
                "planned_delivery": delivery,
                "created_at": now,
                "expires_at": expires,
            }
            for trip_id, order_id, detour, pickup, delivery in keep
        ],
    )
    session.execute(
        insert(OrderEvent),
        [
            {
                "order_id": order_id,
                "at": now,
                "actor_id": None,
                "action": Action.OFFER.value,
                "from_status": OrderStatus.POSTED,
                "to_status": OrderStatus.OFFERED,
                "trip_id": trip_id,
                "note": f"matching run {run_id}: detour {detour:.1f} min",
            }
            for trip_id, order_id, detour, _, _ in keep
        ],
    )
    return keep


def runs(session: Session, actor: Actor, limit: int) -> list[MatchingRun]:
    actor.require(Role.OPERATOR)
    return repository.runs(session, limit)


# -- grabbing ---------------------------------------------------------------------------


def _grabbing_trip(session: Session, actor: Actor, trip_id: int, now: datetime) -> Trip:
    trip = trip_service.own(session, actor, trip_id, for_update=True)
    if trip.status != TripStatus.OPEN:
        raise Conflict(f"trip {trip_id} is {trip.status.value}", status=trip.status.value)
    if trip.earliest_departure < now:
        raise Conflict(
            f"trip {trip_id} departed at {trip.earliest_departure:%H:%M} UTC",
            status=trip.status.value,
        )
    if repository.pending_offer_exists(session, trip_id):
        raise Conflict(
            f"trip {trip_id} has a pending offer; answer it before grabbing another order",
            status=trip.status.value,
        )
    return trip


def fitting_orders(
    session: Session, context: ServiceContext, actor: Actor, trip_id: int, limit: int
) -> list[tuple[Order, float, datetime, datetime]]:
    """Open orders this trip can carry, least detour first."""
    now = context.clock.now()
    couriers.require_may_work(session, context, actor)
    trip = _grabbing_trip(session, actor, trip_id, now)
    open_orders = repository.open_orders(session, now)
    if not open_orders:
        return []
    core_trip, core_orders, pairs = bridge.feasible([trip], open_orders, context.travel, now)
    best = np.argsort(pairs.detour, kind="stable")[:limit]
    times = schedule(core_trip, core_orders, context.travel, pairs.trip[best], pairs.request[best])
    return [
        (
            open_orders[int(pairs.request[k])],
            float(pairs.detour[k]),
            bridge.at_minutes(now, times.pickup_time[i]),
            bridge.at_minutes(now, times.delivery_time[i]),
        )
        for i, k in enumerate(best)
    ]


def grab(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, trip_id: int
) -> tuple[Order, str]:
    """Take an open order onto one of the courier's trips; exactly one of several
    simultaneous grabs wins (compare-and-set), the others get 409."""
    now = context.clock.now()
    couriers.require_may_work(session, context, actor)
    trip = _grabbing_trip(session, actor, trip_id, now)
    order = orders.get(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    if order.status != OrderStatus.POSTED or order.locked:
        raise Conflict(
            f"order {order_id} is {order.status.value}, not open", status=order.status.value
        )
    if len(bridge.check_one(trip, order, context.travel, now)) == 0:
        raise Invalid(
            "trip_id",
            f"trip {trip_id} cannot carry order {order_id} within both time windows",
        )
    if not trips.set_status(session, trip_id, TripStatus.OPEN, TripStatus.ASSIGNED, now):
        raise Conflict(f"trip {trip_id} changed meanwhile", status=trip.status.value)
    orders.transition(
        session, order_id, Action.GRAB, actor.id, now, trip_id=trip_id, accepted_at=now
    )
    code = handover.issue_pickup_code(session, context, order_id, now)
    return fresh(session, order_id), code
