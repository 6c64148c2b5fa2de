"""The rolling-horizon job: expire what is due, match open orders to free trips with the
core's matcher, send offers. A job, not a request: it opens and commits its own
transactions, under a lock so that one batch runs at a time across processes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from crowdship.core import CostFunction, Requests, Trips, match, policy_named, schedule
from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts import repository as accounts
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.lifecycle import OfferAction
from crowdship.service.entities.offers.models import MatchingRun, Offer
from crowdship.service.entities.offers.schemas import MatchingRunPublic
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.ratings import service as ratings
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips.models import Trip
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.lock import job_lock
from crowdship.service.workflows import core_model, trust
from crowdship.service.workflows.assignment import check_free, expire_offer

log = logging.getLogger("crowdship.matching")


# -- expiry -----------------------------------------------------------------------------


def expire_offers(session: Session, now: datetime) -> int:
    """Unanswered offers past their time count as rejections; their orders return."""
    return sum(
        expire_offer(session, due.offer_id, due.order_id, due.trip_id, now)
        for due in offers.due_to_expire(session, now)
    )


def expire_orders(session: Session, context: ServiceContext, now: datetime) -> int:
    """Open orders whose latest delivery can no longer be met, even driving straight there."""
    windows = orders.open_windows(session)
    if not windows:
        return 0
    drive = context.travel.pairwise(
        np.array([w.pickup for w in windows], dtype=np.float64),
        np.array([w.delivery for w in windows], dtype=np.float64),
    )
    left = np.array([(w.latest_delivery - now).total_seconds() / 60 for w in windows])
    expired = 0
    for k in np.flatnonzero(drive > left).tolist():
        window = windows[k]
        offers.transition_many(session, OfferAction.TAKE_BACK, now, order_id=window.order_id)
        orders.transition(
            session,
            window.order_id,
            Action.EXPIRE,
            None,
            now,
            note=f"latest delivery {window.latest_delivery:%H:%M} UTC can no longer be met",
        )
        expired += 1
    return expired


# -- the rolling-horizon job ------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A pair the matcher chose, with the rule's planned times."""

    trip_id: int
    order_id: int
    detour_min: float
    planned_pickup: datetime
    planned_delivery: datetime


@dataclass(frozen=True)
class Loaded:
    orders: list[Order]
    trips: list[Trip]
    refused: list[tuple[str, str]]
    rating: dict[int, float]  # courier -> Bayesian score


def _load(context: ServiceContext, now: datetime) -> Loaded:
    with context.db.read() as session:
        open_orders = orders.open_orders(session, now)
        working = accounts.working_couriers(context.settings.assessment_required)
        free = trips.free(session, now, working, offers.busy_trips())
        refused = offers.refused_pairs(session, [o.id for o in open_orders])
        scored = ratings.scores(session, context, {t.courier_id for t in free})
    return Loaded(
        open_orders,
        free,
        [(str(p.trip_id), str(p.order_id)) for p in refused],
        {courier: s.score for courier, s in scored.items()},
    )


def cost_function(context: ServiceContext) -> CostFunction:
    """Detour minutes, plus the rating term: a 1-star courier costs ``rating_weight``
    minutes more than a 5-star one."""
    return CostFunction.weighted(rating=context.settings.rating_weight)


def warm_up(context: ServiceContext) -> float:
    """Run the matcher once on a tiny day so its compiled kernels are loaded (or compiled,
    the first time after an install) before the first batch; the seconds it took."""
    clock = time.perf_counter()
    near = [[60.17, 24.94], [60.18, 24.95]]
    far = [[60.19, 24.96], [60.20, 24.97]]
    match(
        Trips.from_columns(["t1", "t2"], near, far, [0.0, 0.0], [240.0, 240.0]),
        Requests.from_columns(["r1", "r2"], near, far, [0.0, 0.0], [240.0, 240.0]),
        context.travel,
        cost=cost_function(context),
        policy=policy_named(context.settings.policy),
    )
    return time.perf_counter() - clock


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
                last = offers.last_run_started(session)
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
        proposals: list[Proposal] = []
        feasible = 0
        if loaded.orders and loaded.trips:
            result = match(
                core_model.core_trips(loaded.trips, now, loaded.rating),
                core_model.core_requests(loaded.orders, now),
                context.travel,
                cost=cost_function(context),
                policy=policy_named(context.settings.policy),
                exclude=loaded.refused,
            )
            feasible = result.stats.feasible_pairs
            proposals = [
                Proposal(
                    int(m.trip_id),
                    int(m.request_id),
                    m.detour_min,
                    core_model.at_minutes(now, m.pickup_time),
                    core_model.at_minutes(now, m.delivery_time),
                )
                for m in result.assignment.matches()
            ]
        planned = len(proposals)
        if context.settings.matching_strategy == "jit":
            proposals = commit_now(context, proposals, loaded, now)
        match_s = time.perf_counter() - clock

        clock = time.perf_counter()
        with context.db.write() as session:
            run = offers.start_run(
                session,
                trigger=trigger,
                started_at=now,
                open_orders=len(loaded.orders),
                free_trips=len(loaded.trips),
                feasible_pairs=feasible,
            )
            sent = _send_offers(session, context, run.id, proposals, now)
            run.offers = len(sent)
            run.total_detour_min = float(sum(p.detour_min for p in sent))
            run.load_s, run.match_s = load_s, match_s
            run.write_s = time.perf_counter() - clock
            run.finished_at = context.clock.now()
            session.commit()
        log.info(
            "matching run %d (%s, %s): %d open orders, %d free trips, %d feasible pairs, %d "
            "pairs planned, %d offers sent, %d offers and %d orders expired; load %.2fs match "
            "%.2fs write %.2fs",
            run.id,
            trigger,
            context.settings.matching_strategy,
            run.open_orders,
            run.free_trips,
            feasible,
            planned,
            run.offers,
            expired_offers,
            expired_orders,
            load_s,
            match_s,
            run.write_s,
        )
        return run


def commit_now(
    context: ServiceContext, proposals: list[Proposal], loaded: Loaded, now: datetime
) -> list[Proposal]:
    """Just in time: of the batch's plan, the pairs that waiting longer could lose: the
    trip departs within the lead (after that it can no longer take the order), or the order
    has waited as long as the sender is promised an answer. The rest stays a plan; the next
    batch plans again with whatever arrived meanwhile."""
    settings = context.settings
    departs = {t.id: t.earliest_departure for t in loaded.trips}
    posted = {o.id: o.created_at for o in loaded.orders}
    lead = timedelta(minutes=settings.jit_lead_min)
    wait = (
        None if settings.jit_max_wait_min is None else timedelta(minutes=settings.jit_max_wait_min)
    )
    return [
        p
        for p in proposals
        if departs[p.trip_id] - now <= lead
        or (wait is not None and now - posted[p.order_id] >= wait)
    ]


def _send_offers(
    session: Session,
    context: ServiceContext,
    run_id: int | None,
    proposals: list[Proposal],
    now: datetime,
    by: int | None = None,
) -> list[Proposal]:
    """Write offers for the proposals whose order and trip are still free, all at once.

    Orders and trips may have moved since they were loaded (a grab, a cancellation), so
    both are re-read under lock and only untouched pairs are offered; the orders' posted ->
    offered step is one guarded bulk transition."""
    if not proposals:
        return []
    # Trips before orders, the order a grab takes them in. The other way round, a batch
    # holding an order it offers and a grab of that order holding its own trip waited for
    # each other (PostgreSQL found such deadlocks under load in bench_flow).
    trip_ids = {p.trip_id for p in proposals}
    still_open = trips.lock_open(session, trip_ids) - offers.busy_among(session, trip_ids)
    still_posted = orders.lock_posted(session, (p.order_id for p in proposals))
    keep = [p for p in proposals if p.order_id in still_posted and p.trip_id in still_open]
    if not keep:
        return []
    origin = f"matching run {run_id}" if run_id is not None else "offered by hand"
    orders.transition_many(
        session,
        [
            orders.Change(p.order_id, p.trip_id, f"{origin}: detour {p.detour_min:.1f} min")
            for p in keep
        ],
        Action.OFFER,
        by,
        now,
    )
    courier_of = trips.courier_of(session, {p.trip_id for p in keep})
    expires = now + timedelta(minutes=context.settings.offer_ttl_min)
    offers.add_many(
        session,
        run_id,
        [
            offers.NewOffer(
                p.order_id,
                p.trip_id,
                courier_of[p.trip_id],
                p.detour_min,
                p.planned_pickup,
                p.planned_delivery,
            )
            for p in keep
        ],
        now,
        expires,
    )
    return keep


def runs(session: Session, actor: Actor, limit: int) -> list[MatchingRunPublic]:
    """The latest runs with what became of their offers (accepted, rejected, ...)."""
    actor.require(Role.OPERATOR)
    found = offers.runs(session, limit)
    outcomes = offers.outcomes_by_run(session, [r.id for r in found])
    counted = ("accepted", "rejected", "expired", "withdrawn")
    return [
        MatchingRunPublic.model_validate(run).model_copy(
            update={k: v for k, v in outcomes.get(run.id, {}).items() if k in counted}
        )
        for run in found
    ]


def offer_by_hand(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, trip_id: int
) -> tuple[Offer, Order]:
    """Operator: offer an open order to one trip's courier, as a matching run would (the
    same rule, expiry and notification); the courier accepts or rejects it. A pair that does
    not fit is refused with the part of the rule it breaks."""
    actor.require(Role.OPERATOR)
    now = context.clock.now()
    order = orders.get(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    trip = trips.get(session, trip_id, for_update=True)
    if trip is None:
        raise NotFound(f"trip {trip_id} not found")
    if order.status != OrderStatus.POSTED or order.locked:
        waiting = " (an offer waits for its answer)" if order.status == OrderStatus.OFFERED else ""
        raise Conflict(
            f"order {order_id} is {order.status.value}, not open{waiting}",
            status=order.status.value,
        )
    check_free(session, trip, now)  # open, not departed, no offer waiting
    trust.require_courier_may_work(session, context, trip.courier_id)
    fits = core_model.check_one(trip, order, context.travel, now)
    if len(fits) == 0:
        raise Invalid("trip_id", core_model.why_not(trip, order, context.travel))
    core_t = core_model.core_trips([trip], now)
    core_r = core_model.core_requests([order], now)
    times = schedule(core_t, core_r, context.travel, fits.trip, fits.request)
    proposal = Proposal(
        trip_id,
        order_id,
        float(fits.detour[0]),
        core_model.at_minutes(now, times.pickup_time[0]),
        core_model.at_minutes(now, times.delivery_time[0]),
    )
    sent = _send_offers(session, context, None, [proposal], now, by=actor.id)
    if not sent:
        raise Conflict(f"order {order_id} or trip {trip_id} changed meanwhile", status="posted")
    return offers.pending_for(session, order_id, trip_id), order_access.fresh(session, order_id)
