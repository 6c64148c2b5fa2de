"""Who carries which order: offers answered, orders grabbed, withdrawn and cancelled, trips
changed and cancelled. Every path checks feasibility with the core's rule and moves orders,
offers and trips through their transition tables. Never commits.

A trip may carry several orders up to its capacity (issue 15): an order joins a trip that
carries others only if the whole route, planned again with it, keeps every bound
(``routing.add_order``); a trip is ``assigned`` while it carries any order, and open or
completed again only when the last one leaves or is handed over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from crowdship.core import TravelModel, schedule
from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.offers import repository as offers
from crowdship.service.entities.offers.lifecycle import OfferAction
from crowdship.service.entities.offers.models import Offer, OfferStatus
from crowdship.service.entities.orders import handover
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders import service as order_access
from crowdship.service.entities.orders.lifecycle import Action, OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips import repository as trips
from crowdship.service.entities.trips import service as trip_access
from crowdship.service.entities.trips.lifecycle import TripAction
from crowdship.service.entities.trips.models import Trip, TripStatus
from crowdship.service.entities.trips.schemas import TripUpdate
from crowdship.service.errors import Conflict, Forbidden, Invalid, NotFound
from crowdship.service.workflows import core_model, routing, trust


class OfferExpired(Conflict):
    """The offer ran out before the answer; its expiry is recorded."""

    keep_changes = True


class OfferNoLongerFits(Conflict):
    """The trip departed while the offer waited, and from now its route cannot take the
    order: the offer is taken back (not held against the courier) and the order returns to
    the pool; recorded although the answer is a refusal."""

    keep_changes = True


# -- offers -----------------------------------------------------------------------------


def _own_offer(session: Session, actor: Actor, offer_id: int) -> Offer:
    actor.require(Role.COURIER)
    offer = offers.get(session, offer_id, for_update=True)
    if offer is None or offer.courier_id != actor.id:
        raise NotFound(f"offer {offer_id} not found")
    return offer


def expire_offer(
    session: Session, offer_id: int, order_id: int, trip_id: int, now: datetime
) -> bool:
    """An unanswered offer counts as a rejection; its order returns to the pool."""
    if not offers.transition(session, offer_id, OfferAction.EXPIRE, now):
        return False
    orders.transition(
        session,
        order_id,
        Action.OFFER_EXPIRE,
        None,
        now,
        note=f"offer {offer_id} to trip {trip_id} was not answered in time",
    )
    return True


def accept(
    session: Session, context: ServiceContext, actor: Actor, offer_id: int
) -> tuple[Order, str]:
    offer = _own_offer(session, actor, offer_id)
    now = context.clock.now()
    if offer.status == OfferStatus.PENDING and offer.expires_at <= now:
        expire_offer(session, offer.id, offer.order_id, offer.trip_id, now)
        raise OfferExpired(
            f"offer {offer_id} expired at {offer.expires_at:%H:%M:%S} UTC", status="expired"
        )
    if offer.status == OfferStatus.PENDING:
        _take_back_if_it_no_longer_fits(session, context, offer, now)
    if not offers.transition(session, offer_id, OfferAction.ACCEPT, now):
        raise Conflict(f"offer {offer_id} is {offer.status.value}", status=offer.status.value)
    # A trip that carries nothing and has not departed takes the order in one guarded
    # UPDATE (the offer's pair was checked by the batch, from the trip's departure); one
    # that carries orders, or has departed while the offer waited, has its whole route
    # checked again from now.
    if not trips.transition_if_empty(
        session, offer.trip_id, TripAction.ASSIGN, now, before_departure=True
    ):
        trip = trips.get(session, offer.trip_id, for_update=True)
        if trip is None or trip.status not in TAKING:
            raise Conflict(f"trip {offer.trip_id} is no longer open", status=offer.status.value)
        _fits_route(session, context, trip, offer.order_id, now)
        if not trips.transition(session, offer.trip_id, TripAction.ASSIGN, now):
            raise Conflict(f"trip {offer.trip_id} is no longer open", status=offer.status.value)
    # One UPDATE from the state a pending offer keeps its order in, with the pickup code,
    # returning the row (no read before, no reload after).
    code_columns, code = handover.new_pickup_code(context, offer.order_id)
    order = orders.transition_from(
        session,
        offer.order_id,
        OrderStatus.OFFERED,
        Action.ACCEPT,
        actor.id,
        now,
        trip_id=offer.trip_id,
        courier_id=actor.id,
        accepted_at=now,
        **code_columns,
    )
    return order, code


def _take_back_if_it_no_longer_fits(
    session: Session, context: ServiceContext, offer: Offer, now: datetime
) -> None:
    """An offer waits up to its time to live; if its trip departed meanwhile, the route is
    planned again from now, and an order it would now deliver late is not taken: the offer
    is withdrawn and the order goes back to the pool at once (rather than waiting, offered,
    for the offer to expire)."""
    trip = trips.get(session, offer.trip_id, for_update=True)
    if trip is None or trip.status not in TAKING or not trip.earliest_departure < now:
        return
    try:
        _fits_route(session, context, trip, offer.order_id, now)
    except Conflict as misfit:
        if not offers.transition(session, offer.id, OfferAction.TAKE_BACK, now):
            # answered or expired meanwhile: that answer stands
            session.refresh(offer)
            raise Conflict(
                f"offer {offer.id} is {offer.status.value}", status=offer.status.value
            ) from None
        orders.transition(
            session,
            offer.order_id,
            Action.OFFER_EXPIRE,
            None,
            now,
            note=f"offer {offer.id} to trip {trip.id} taken back: the trip departed and "
            f"{misfit.message}",
        )
        raise OfferNoLongerFits(
            f"offer {offer.id} no longer fits: trip {trip.id} departed at "
            f"{trip.earliest_departure:%H:%M} UTC and, planned from now, {misfit.message}; "
            "the offer is withdrawn and the order is back in the pool",
            status=OfferStatus.WITHDRAWN.value,
        ) from None


def reject(
    session: Session, context: ServiceContext, actor: Actor, offer_id: int
) -> tuple[Offer, Order]:
    offer = _own_offer(session, actor, offer_id)
    now = context.clock.now()
    if not offers.transition(session, offer_id, OfferAction.REJECT, now):
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
    return offer, order_access.fresh(session, offer.order_id)


def list_offers(
    session: Session, actor: Actor, status: OfferStatus | None, limit: int, offset: int
) -> list[tuple[Offer, Order]]:
    actor.require(Role.COURIER, Role.OPERATOR)
    courier = None if actor.role == Role.OPERATOR else actor.id
    found = offers.offers_for(session, courier, status, limit, offset)
    order_by_id = orders.by_ids(session, (f.order_id for f in found))
    return [(f, order_by_id[f.order_id]) for f in found]


# -- grabbing ---------------------------------------------------------------------------


def _grabbing_trip(
    session: Session, actor: Actor, trip_id: int, now: datetime, for_update: bool = True
) -> Trip:
    trip = trip_access.own(session, actor, trip_id, for_update=for_update)
    check_free(session, trip, now)
    return trip


# A trip takes orders while open (it carries none) or assigned (it carries some, and its
# route decides whether one more fits).
TAKING = (TripStatus.OPEN, TripStatus.ASSIGNED)


def check_free(session: Session, trip: Trip, now: datetime) -> None:
    """The trip can take an order now: open or carrying some (room is the route's to say),
    not departed, no offer waiting for an answer."""
    trip_id = trip.id
    if trip.status not in TAKING:
        raise Conflict(f"trip {trip_id} is {trip.status.value}", status=trip.status.value)
    if trip.earliest_departure < now:
        raise Conflict(
            f"trip {trip_id} departed at {trip.earliest_departure:%H:%M} UTC",
            status=trip.status.value,
        )
    if offers.pending_offer_exists(session, trip_id):
        raise Conflict(
            f"trip {trip_id} has a pending offer: its courier answers that one first",
            status=trip.status.value,
        )


@dataclass(frozen=True)
class Fit:
    """An open order a trip can carry, with the detour and the rule's times."""

    order: Order
    detour_min: float
    planned_pickup: datetime
    planned_delivery: datetime


def fitting_orders(
    session: Session, context: ServiceContext, actor: Actor, trip_id: int, limit: int
) -> list[Fit]:
    """Open orders this trip can carry, least detour first: for a trip that carries some,
    those whose whole route fits, by the route's extra driving."""
    now = context.clock.now()
    trust.require_may_work(session, context, actor)
    # Only looking: no row lock (it would hold the courier's own grabs for the whole search).
    trip = _grabbing_trip(session, actor, trip_id, now, for_update=False)
    open_orders = orders.open_orders(session, now)
    if not open_orders:
        return []
    core_trip, core_orders, pairs = core_model.feasible([trip], open_orders, context.travel, now)
    on_trip = orders.on_trips(session, [trip_id])
    if routing.carried(on_trip):
        # The pair's own rule is necessary (a route for more stops serves fewer); the
        # whole route decides.
        candidates = [open_orders[int(j)] for j in pairs.request]
        return _fitting_route(trip, on_trip, candidates, context.travel, now, limit)
    best = np.argsort(pairs.detour, kind="stable")[:limit]
    times = schedule(core_trip, core_orders, context.travel, pairs.trip[best], pairs.request[best])
    return [
        Fit(
            open_orders[int(pairs.request[k])],
            float(pairs.detour[k]),
            core_model.at_minutes(now, times.pickup_time[i]),
            core_model.at_minutes(now, times.delivery_time[i]),
        )
        for i, k in enumerate(best)
    ]


def _fitting_route(
    trip: Trip,
    on_trip: list[Order],
    candidates: list[Order],
    travel: TravelModel,
    now: datetime,
    limit: int,
) -> list[Fit]:
    """The candidates whose whole route with what the trip carries keeps every bound,
    least extra driving first (ties in the candidates' order), as planning each one's
    route on its own (``routing.additions``, what a grab uses) ranks them, but every
    candidate in one compiled call (``routing.extras``), not a Python loop of ~75 us each.

    The minutes count from the route's start (never before now, so the same route), as
    the per-candidate planner's do: the search gets the same numbers and plans the same
    times to the microsecond. Only a route of four orders (8 or 9 legs) may sum its
    driving in another order (numpy's), a detour ~1e-14 min apart, far below the answer's
    0.01 min."""
    if not candidates:
        return []
    ref = routing.start_of(trip, on_trip, now).at
    n = len(candidates)
    found = routing.extras(
        [trip],
        [on_trip],
        candidates,
        core_model.core_requests(candidates, ref),
        np.zeros(n, dtype=np.int64),
        np.arange(n, dtype=np.int64),
        travel,
        ref,
    )
    fit = np.flatnonzero(found.fits)
    best = fit[np.argsort(found.extra_min[fit], kind="stable")][:limit]
    return [
        Fit(
            candidates[int(k)],
            float(found.extra_min[k]),
            core_model.at_minutes(ref, found.pickup[k]),
            core_model.at_minutes(ref, found.delivery[k]),
        )
        for k in best
    ]


def grab(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, trip_id: int
) -> tuple[Order, str]:
    """Take an open order onto one of the courier's trips; exactly one of several
    simultaneous grabs wins (compare-and-set), the others get 409."""
    now = context.clock.now()
    trust.require_may_work(session, context, actor)
    trip = _grabbing_trip(session, actor, trip_id, now)
    order = orders.get(session, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    if order.status != OrderStatus.POSTED or order.locked:
        raise Conflict(
            f"order {order_id} is {order.status.value}, not open", status=order.status.value
        )
    if len(core_model.check_one(trip, order, context.travel, now)) == 0:
        raise Invalid("trip_id", core_model.why_not(trip, order, context.travel))
    _fits_route(session, context, trip, order_id, now, order)
    if not trips.transition(session, trip_id, TripAction.ASSIGN, now):
        raise Conflict(f"trip {trip_id} changed meanwhile", status=trip.status.value)
    code_columns, code = handover.new_pickup_code(context, order_id)
    order = orders.transition_order(
        session,
        order,
        Action.GRAB,
        actor.id,
        now,
        trip_id=trip_id,
        courier_id=actor.id,
        accepted_at=now,
        **code_columns,
    )
    return order, code


def _fits_route(
    session: Session,
    context: ServiceContext,
    trip: Trip,
    order_id: int,
    now: datetime,
    order: Order | None = None,
) -> None:
    """409 naming the reason (capacity, or the bound the route breaks) when the trip
    carries orders, or has departed, and its whole route, planned again with this one from
    now, does not keep the rule. The trip's row is locked by the caller, so nothing joins
    it meanwhile."""
    # Before departure, an empty trip's route is the pair's own rule, checked where the
    # pair was found (from the trip's departure); after it, the route starts now.
    departed = trip.earliest_departure < now
    if trip.status == TripStatus.OPEN and not departed:
        return
    on_trip = orders.on_trips(session, [trip.id])
    if not routing.carried(on_trip) and not departed:
        return
    joining = order if order is not None else orders.get(session, order_id)
    if joining is None:
        raise NotFound(f"order {order_id} not found")
    routing.add_order(trip, on_trip, joining, context.travel, now)


# -- giving orders back -----------------------------------------------------------------


def release_trip(session: Session, trip_id: int | None, action: TripAction, now: datetime) -> None:
    """One of the trip's orders left it (``RELEASE``) or was handed over (``COMPLETE``).

    While the trip carries other orders it stays assigned: its route is planned again
    from what remains whenever it is asked for, and nothing else changes. When the last
    one goes, the trip is open again (it left before pickup: the trip may take others
    until it departs) or completed (it was handed over, or given up after pickup)."""
    if trip_id is not None:
        trips.transition_if_empty(session, trip_id, action, now)


class MustStay(Conflict):
    """An accepted order cannot leave its courier's trip this way."""


def may_leave_trip(order: Order, actor: Actor, context: ServiceContext, now: datetime) -> bool:
    """The one rule for an accepted order leaving its trip, on every path (withdraw, cancel
    or change the trip, the operator's release and reassignment). The courier may give it
    back within the withdrawal window, and never after it: the order stays theirs until they
    report an incident or the operator releases it. The operator may release it at any time.

    True when the order leaves late (after the window), which counts against the courier;
    MustStay (409) when it may not leave."""
    if order.status != OrderStatus.ACCEPTED:
        raise MustStay(
            f"order {order.id} is {order.status.value}; only an accepted order can leave its "
            "trip (a picked-up parcel is delivered, or an incident is reported)",
            status=order.status.value,
        )
    window = timedelta(minutes=context.settings.withdraw_window_min)
    accepted = order.accepted_at or now
    deadline = accepted + window
    late = now > deadline
    if actor.role == Role.OPERATOR:
        return late
    if late:
        raise MustStay(
            f"the {window.total_seconds() / 60:g}-minute withdrawal window for order "
            f"{order.id} closed at {deadline:%H:%M:%S} UTC; the order stays yours: report an "
            "incident, or ask the operator to release it",
            status=order.status.value,
        )
    return False


# What an order loses when it leaves its trip before pickup.
OFF_TRIP: dict[str, Any] = {
    "trip_id": None,
    "courier_id": None,
    "accepted_at": None,
    "pickup_code_hash": None,
}


def cancel_order(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """The sender (or an operator) cancels before pickup."""
    order = order_access.visible(session, actor, order_id)
    if actor.role != Role.OPERATOR and order.sender_id != actor.id:
        raise Forbidden(f"only the sender can cancel order {order_id}")
    now = context.clock.now()
    previous_trip = order.trip_id
    orders.transition(
        session,
        order_id,
        Action.CANCEL,
        actor.id,
        now,
        concerns=order.courier_id,  # a courier carrying it hears of the cancellation
        trip_id=None,
        courier_id=None,
        pickup_code_hash=None,
    )
    offers.transition_many(session, OfferAction.TAKE_BACK, now, order_id=order_id)
    release_trip(session, previous_trip, TripAction.RELEASE, now)
    return order_access.fresh(session, order_id)


def withdraw(session: Session, context: ServiceContext, actor: Actor, order_id: int) -> Order:
    """The courier gives an accepted order back, within the withdrawal window."""
    order = order_access.carried(session, actor, order_id)
    now = context.clock.now()
    may_leave_trip(order, actor, context, now)
    _off_trip(session, order, Action.WITHDRAW, actor, now)
    return order_access.fresh(session, order_id)


def _off_trip(
    session: Session, order: Order, action: Action, actor: Actor, now: datetime, note: str = ""
) -> None:
    """The accepted order goes back to the pool; its pair is not offered again; its trip is
    free again (unless the trip itself is being cancelled)."""
    trip_id, courier_id = order.trip_id, order.courier_id
    orders.transition(
        session,
        order.id,
        action,
        actor.id,
        now,
        note=note,
        concerns=courier_id,
        **OFF_TRIP,
        pickup_attempts=0,
    )
    # The courier gave this pair up: like a rejection, it is not offered again.
    if trip_id is not None:
        offers.transition_many(
            session, OfferAction.WITHDRAW, now, order_id=order.id, trip_id=trip_id
        )
    release_trip(session, trip_id, TripAction.RELEASE, now)


def release(
    session: Session, context: ServiceContext, actor: Actor, order_id: int, note: str
) -> Order:
    """Operator: put a courier's accepted order back in the pool (a stuck order, a courier
    who cannot make it). After the withdrawal window it counts against the courier."""
    actor.require(Role.OPERATOR)
    order = order_access.visible(session, actor, order_id)
    now = context.clock.now()
    late = may_leave_trip(order, actor, context, now)
    _off_trip(session, order, Action.LATE_RELEASE if late else Action.RELEASE, actor, now, note)
    return order_access.fresh(session, order_id)


def reassign(
    session: Session,
    context: ServiceContext,
    actor: Actor,
    order_id: int,
    trip_id: int,
    note: str,
) -> Order:
    """Operator: move an accepted (or open) order onto another courier's open trip that can
    carry it; the new courier asks for their pickup code (POST /orders/{id}/pickup-code)."""
    actor.require(Role.OPERATOR)
    order = order_access.visible(session, actor, order_id)
    now = context.clock.now()
    if order.trip_id == trip_id:
        raise Conflict(f"order {order_id} is already on trip {trip_id}", status=order.status.value)
    trip = trip_access.visible(session, actor, trip_id, for_update=True)
    check_free(session, trip, now)
    trust.require_courier_may_work(session, context, trip.courier_id, order.status.value)
    if order.status == OrderStatus.ACCEPTED:
        late = may_leave_trip(order, actor, context, now)
        _off_trip(session, order, Action.LATE_RELEASE if late else Action.RELEASE, actor, now, note)
        order = order_access.fresh(session, order_id)
    if order.status != OrderStatus.POSTED or order.locked:
        raise Conflict(
            f"order {order_id} is {order.status.value}, not open or accepted",
            status=order.status.value,
        )
    if len(core_model.check_one(trip, order, context.travel, now)) == 0:
        raise Invalid("trip_id", core_model.why_not(trip, order, context.travel))
    _fits_route(session, context, trip, order_id, now, order)
    if not trips.transition(session, trip_id, TripAction.ASSIGN, now):
        raise Conflict(f"trip {trip_id} changed meanwhile", status=trip.status.value)
    orders.transition(
        session,
        order_id,
        Action.ASSIGN,
        actor.id,
        now,
        note=note,
        trip_id=trip_id,
        courier_id=trip.courier_id,
        accepted_at=now,
    )
    handover.issue_pickup_code(session, context, order_id, now)
    return order_access.fresh(session, order_id)


# -- changing and cancelling trips ----------------------------------------------------------


def update_trip(
    session: Session, context: ServiceContext, actor: Actor, trip_id: int, data: TripUpdate
) -> Trip:
    trip = trip_access.own(session, actor, trip_id, for_update=True)
    if trip.status != TripStatus.OPEN:
        raise Conflict(
            f"trip {trip_id} is {trip.status.value}; only open trips can change",
            status=trip.status.value,
        )
    if offers.pending_offer_exists(session, trip_id):
        raise Conflict(
            f"trip {trip_id} has a pending offer; accept or reject it before changing the trip",
            status=trip.status.value,
        )
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise Invalid(name, "cannot be null; leave it out to keep the current value")
        setattr(trip, name, value)
    now = context.clock.now()
    trip_access.check_times(trip, context, now)
    trip.updated_at = now
    session.flush()
    return trip


def cancel_trip(session: Session, context: ServiceContext, actor: Actor, trip_id: int) -> Trip:
    """Cancel a trip; a pending offer is withdrawn and the accepted (not yet picked up)
    orders go back to the pool."""
    trip = trip_access.own(session, actor, trip_id, for_update=True)
    now = context.clock.now()
    if trip.status in TAKING:
        carried = routing.carried(orders.on_trips(session, [trip_id]))
        if any(o.status == OrderStatus.PICKED_UP for o in carried):
            raise Conflict(
                f"trip {trip_id} carries a picked-up parcel; deliver it or report an incident",
                status=trip.status.value,
            )
        for order in carried:  # the same rule as withdrawing: within the window only
            may_leave_trip(order, actor, context, now)
        for order in carried:
            # Cancelling the trip gives its orders back: each counts as a withdrawal.
            _off_trip(session, order, Action.WITHDRAW, actor, now, f"trip {trip_id} cancelled")
        # A trip that carries some may also have an offer waiting for its answer.
        for taken in offers.transition_many(session, OfferAction.TAKE_BACK, now, trip_id=trip_id):
            orders.transition(
                session,
                taken.order_id,
                Action.TRIP_CANCEL,
                actor.id,
                now,
                note=f"trip {trip_id} cancelled; its offer was withdrawn",
            )
    else:
        raise Conflict(f"trip {trip_id} is already {trip.status.value}", status=trip.status.value)
    if not trips.transition(session, trip_id, TripAction.CANCEL, now):
        raise Conflict(f"trip {trip_id} changed meanwhile; try again", status=trip.status.value)
    session.refresh(trip)
    return trip
