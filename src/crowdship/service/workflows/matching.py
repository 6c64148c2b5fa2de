"""The rolling-horizon job: expire what is due, match open orders to trips that can take
one with the core's matcher, send offers. A job, not a request: it opens and commits its
own transactions, under a lock so that one batch runs at a time across processes.

Several parcels per trip (issue 15): a trip that carries orders and has room left is a
candidate too, keeping what it carries. A batch offers each trip at most one order (a trip
answers one offer at a time), so it is still a one-to-one matching, solved exactly by the
core's policy over the feasible pairs: a pair with an empty trip by the core's pair rule;
a pair with a trip that carries orders only if the whole route, planned again with the
new order, keeps every bound, and its detour is the route's extra driving. Every such pair
of the batch is planned in one compiled call (``routing.extras``), with the same answers
as planning each one's route on its own (``routing.additions``, what a grab uses)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from crowdship.core import CostFunction, Requests, Trips, match, policy_named, schedule
from crowdship.core.feasibility import DirectTimes, FeasiblePairs, feasible_pairs
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
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.errors import Conflict, Invalid, NotFound
from crowdship.service.lock import job_lock
from crowdship.service.workflows import core_model, routing, trust
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
    """A pair the matcher chose, with the rule's planned times (for a trip that carries
    orders, the times on its whole route) and the orders the trip carried when planned."""

    trip_id: int
    order_id: int
    detour_min: float
    planned_pickup: datetime
    planned_delivery: datetime
    carried: tuple[int, ...] = ()


@dataclass(frozen=True)
class Loaded:
    orders: list[Order]
    trips: list[Trip]
    refused: list[tuple[str, str]]  # (trip, order) offered before: never again
    rating: dict[int, float]  # courier -> Bayesian score
    on_trips: dict[int, list[Order]]  # trip -> its orders, for the trips that carry some


def _carried_ids(on_trip: list[Order]) -> tuple[int, ...]:
    return tuple(o.id for o in routing.carried(on_trip))


def _load(context: ServiceContext, now: datetime) -> Loaded:
    with context.db.read() as session:
        open_orders = orders.open_orders(session, now)
        working = accounts.working_couriers(context.settings.assessment_required)
        taking = trips.taking(session, now, working, offers.busy_trips())
        refused = offers.offered_pairs(session, [o.id for o in open_orders])
        on_trips: dict[int, list[Order]] = {}
        assigned = [t.id for t in taking if t.status == TripStatus.ASSIGNED]
        for order in orders.on_trips(session, assigned):
            assert order.trip_id is not None
            on_trips.setdefault(order.trip_id, []).append(order)
        # An assigned trip whose units are all taken has no room for one more.
        taking = [
            t
            for t in taking
            if t.status == TripStatus.OPEN
            or routing.load_of(routing.carried(on_trips.get(t.id, []))) < t.capacity
        ]
        scored = ratings.scores(session, context, {t.courier_id for t in taking})
    return Loaded(
        open_orders,
        taking,
        [(str(p.trip_id), str(p.order_id)) for p in refused],
        {courier: s.score for courier, s in scored.items()},
        {t.id: on_trips[t.id] for t in taking if routing.carried(on_trips.get(t.id, []))},
    )


def _without(
    pairs: FeasiblePairs, n_requests: int, loaded: Loaded, trip_pos: dict[int, int]
) -> FeasiblePairs:
    """The pairs less those offered before (rejected, expired, withdrawn: each pair has one
    offer)."""
    order_pos = {o.id: j for j, o in enumerate(loaded.orders)}
    keys = [
        trip_pos[int(t)] * n_requests + order_pos[int(r)]
        for t, r in loaded.refused
        if int(t) in trip_pos and int(r) in order_pos
    ]
    if not keys:
        return pairs
    pair_keys = pairs.trip * n_requests + pairs.request
    return pairs.select(~np.isin(pair_keys, np.asarray(keys, dtype=np.int64)))


def plan_batch(
    context: ServiceContext,
    loaded: Loaded,
    now: datetime,
    phases: dict[str, float] | None = None,
) -> tuple[list[Proposal], int]:
    """The batch's pairs, chosen exactly by the policy: the proposals and how many pairs
    were feasible. With no trip carrying orders this is ``core.match`` step by step (the
    pair rule, refused pairs left out, the cost, the policy, the schedule).

    ``phases``, if given, receives the seconds of each step (``pairs``, ``routes``: the
    loaded trips' routes planned again, ``policy``, ``schedule``) for the benchmark."""
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        if phases is not None:
            at = time.perf_counter()
            phases[phase] = phases.get(phase, 0.0) + at - clock
            clock = at

    travel = context.travel
    core_t = core_model.core_trips(loaded.trips, now, loaded.rating)
    core_r = core_model.core_requests(loaded.orders, now)
    direct = DirectTimes.of(core_t, core_r, travel)
    pairs = feasible_pairs(core_t, core_r, travel, direct)
    trip_pos = {t.id: i for i, t in enumerate(loaded.trips)}
    pairs = _without(pairs, len(loaded.orders), loaded, trip_pos)
    lap("pairs")
    # The planned pickup and delivery on a loaded trip's whole route (NaN for the others).
    route_pickup = np.full(len(pairs), np.nan)
    route_delivery = np.full(len(pairs), np.nan)
    if loaded.on_trips and len(pairs):
        # A trip that carries orders: the pair's own rule is necessary (a route with more
        # stops serves fewer), the whole route decides; its cost is the extra driving.
        carrying = np.array([trip_pos[t] for t in loaded.on_trips], dtype=np.int64)
        keep = ~np.isin(pairs.trip, carrying)
        rows = np.flatnonzero(~keep)
        planned_trips = np.unique(pairs.trip[rows])
        chosen_trips = [loaded.trips[int(i)] for i in planned_trips]
        found = routing.extras(
            chosen_trips,
            [loaded.on_trips[t.id] for t in chosen_trips],
            loaded.orders,
            core_r,
            np.searchsorted(planned_trips, pairs.trip[rows]),
            pairs.request[rows],
            travel,
            now,
        )
        fit = rows[found.fits]
        keep[fit] = True
        detour = pairs.detour.copy()
        detour[fit] = found.extra_min[found.fits]
        route_pickup[fit] = found.pickup[found.fits]
        route_delivery[fit] = found.delivery[found.fits]
        pairs = FeasiblePairs(pairs.trip, pairs.request, detour, pairs.candidates).select(keep)
        route_pickup, route_delivery = route_pickup[keep], route_delivery[keep]
    lap("routes")
    if not len(pairs):
        return [], 0
    cost = cost_function(context)(core_t, core_r, pairs)
    outcome = policy_named(context.settings.policy).choose(core_t, core_r, pairs, cost)
    lap("policy")
    chosen = pairs.select(outcome.selected)
    route_pickup = route_pickup[outcome.selected]
    route_delivery = route_delivery[outcome.selected]
    ranked = np.lexsort((chosen.request, chosen.trip))
    chosen = chosen.select(ranked)
    route_pickup, route_delivery = route_pickup[ranked], route_delivery[ranked]
    times = schedule(core_t, core_r, travel, chosen.trip, chosen.request, direct)
    proposals = []
    for k in range(len(chosen)):
        i, j = int(chosen.trip[k]), int(chosen.request[k])
        trip, order = loaded.trips[i], loaded.orders[j]
        carried: tuple[int, ...] = ()
        if np.isnan(route_pickup[k]):
            pickup = core_model.at_minutes(now, times.pickup_time[k])
            delivery = core_model.at_minutes(now, times.delivery_time[k])
        else:
            pickup = core_model.at_minutes(now, route_pickup[k])
            delivery = core_model.at_minutes(now, route_delivery[k])
            carried = _carried_ids(loaded.on_trips[trip.id])
        proposals.append(
            Proposal(trip.id, order.id, float(chosen.detour[k]), pickup, delivery, carried)
        )
    lap("schedule")
    return proposals, len(pairs)


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
            proposals, feasible = plan_batch(context, loaded, now)
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
    both are re-read under lock and only untouched pairs are offered (a trip still
    carrying exactly the orders its route was planned with); the orders' posted ->
    offered step is one guarded bulk transition."""
    if not proposals:
        return []
    # Trips before orders, the order a grab takes them in. The other way round, a batch
    # holding an order it offers and a grab of that order holding its own trip waited for
    # each other (PostgreSQL found such deadlocks under load in bench_flow).
    trip_ids = {p.trip_id for p in proposals}
    status_of = trips.lock_taking(session, trip_ids)
    still_open = set(status_of) - offers.busy_among(session, trip_ids)
    # An open trip carries nothing; only the assigned ones' orders need reading.
    carrying: dict[int, list[Order]] = {}
    assigned = {t for t in still_open if status_of[t] == TripStatus.ASSIGNED}
    for order in orders.on_trips(session, assigned):
        assert order.trip_id is not None
        carrying.setdefault(order.trip_id, []).append(order)
    still_posted = orders.lock_posted(session, (p.order_id for p in proposals))
    keep = [
        p
        for p in proposals
        if p.order_id in still_posted
        and p.trip_id in still_open
        and _carried_ids(carrying.get(p.trip_id, [])) == p.carried
    ]
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
    before = offers.offered_before(session, order_id, trip_id)
    if before is not None:
        raise Conflict(
            f"order {order_id} was offered to trip {trip_id} before (offer {before.id}, "
            f"{before.status.value}); a pair is offered once: offer it to another trip",
            status=order.status.value,
        )
    trust.require_courier_may_work(session, context, trip.courier_id, order.status.value)
    fits = core_model.check_one(trip, order, context.travel, now)
    if len(fits) == 0:
        raise Invalid("trip_id", core_model.why_not(trip, order, context.travel))
    on_trip = orders.on_trips(session, [trip_id])
    if routing.carried(on_trip):
        # The trip carries orders: the whole route with this one (409 naming the reason).
        addition = routing.add_order(trip, on_trip, order, context.travel, now)
        proposal = Proposal(
            trip_id,
            order_id,
            addition.extra_min,
            addition.planned_pickup,
            addition.planned_delivery,
            _carried_ids(on_trip),
        )
    else:
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
