"""A trip's route in the service: every order it carries, in one order of stops, planned
with the core's route search (:func:`crowdship.core.routes.best_route_from`), the same rule
as the matcher's (issue 15).

- **Capacity** is in parcel units (1 to 4). Every order takes one unit (``units_of``):
  its size class (small, medium, large) prices it, it does not take more room. A trip holds
  at most ``capacity`` units at once, counting every order it carries (accepted or picked
  up, not yet delivered) from its acceptance to its delivery; so the load on board never
  exceeds the capacity anywhere along the route, whatever the order of stops, and capacity
  1 is exactly the one-parcel trip of before. A delivered order frees its unit.
- **Where the route starts**: at the trip's origin at its earliest departure, as the core's
  rule says, unless the courier was seen later somewhere (a pickup or delivery on this
  trip): then at that place. Never before now: a route planned after its time starts now
  (the courier may be further on; the plan is then the conservative one).
- **Parcels already picked up** stay on board: their pickup is done, only their delivery
  is a stop, and their units load the trip from the start.
- **Adding an order** (an offer, a grab, an operator's reassignment) plans the whole route
  again with it; the order fits when the route keeps every bound and the units fit.
  Its cost is the route's extra driving (the marginal detour).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from crowdship.core import Requests, TravelModel, Trips
from crowdship.core.routes import PICKUP, Stop, best_additions, best_route_from, route_times
from crowdship.service.context import ServiceContext
from crowdship.service.entities.accounts.actor import Actor
from crowdship.service.entities.accounts.models import Role
from crowdship.service.entities.orders import repository as orders
from crowdship.service.entities.orders.lifecycle import OrderStatus
from crowdship.service.entities.orders.models import Order
from crowdship.service.entities.trips import service as trip_access
from crowdship.service.entities.trips.models import Trip
from crowdship.service.entities.trips.schemas import RouteStop, TripRoute
from crowdship.service.errors import Conflict
from crowdship.service.workflows.core_model import at_minutes, minutes_after

CARRIED = (OrderStatus.ACCEPTED, OrderStatus.PICKED_UP)


def units_of(order: Order) -> int:
    """The parcel units an order takes in a trip's capacity: one, whatever its size class."""
    return 1


def carried(orders_on_trip: Sequence[Order]) -> list[Order]:
    """The orders a trip carries now (accepted or picked up), by id."""
    return sorted((o for o in orders_on_trip if o.status in CARRIED), key=lambda o: o.id)


def load_of(orders: Sequence[Order]) -> int:
    return sum(units_of(o) for o in orders)


@dataclass(frozen=True)
class Start:
    """Where and when the route starts, and why there."""

    lat: float
    lon: float
    address: str
    at: datetime
    seen: str  # "origin", or "pickup" / "delivery" of order ``order_id``
    order_id: int | None = None


def start_of(trip: Trip, orders_on_trip: Sequence[Order], now: datetime) -> Start:
    """The trip's origin at its earliest departure, or the place of its latest handover
    (a pickup or delivery on this trip) if that came later; never before now."""
    start = Start(
        trip.origin_lat,
        trip.origin_lon,
        trip.origin_address,
        trip.earliest_departure,
        "origin",
    )
    for order in orders_on_trip:
        seen = [
            (order.picked_up_at, "pickup", order.pickup_lat, order.pickup_lon),
            (order.delivered_at, "delivery", order.delivery_lat, order.delivery_lon),
        ]
        for at, kind, lat, lon in seen:
            if at is not None and at > start.at:
                address = order.pickup_address if kind == "pickup" else order.delivery_address
                start = Start(lat, lon, address, at, kind, order.id)
    if start.at < now:
        start = Start(start.lat, start.lon, start.address, now, start.seen, start.order_id)
    return start


@dataclass(frozen=True)
class PlannedStop:
    kind: str  # start | pickup | delivery | end
    order_id: int | None
    lat: float
    lon: float
    address: str
    arrive_at: datetime
    leave_at: datetime
    load: int  # parcel units on board when leaving the stop
    latest: datetime | None  # the bound this stop must keep (delivery, the trip's arrival)
    on_time: bool


@dataclass(frozen=True)
class Plan:
    stops: list[PlannedStop]
    feasible: bool  # every bound kept (else: the least-driving order, some stops late)
    driving_min: float
    detour_min: float  # driving beyond the direct drive from the start to the destination


class Planner:
    """One trip and some orders in the core's columns (built once), to plan routes of
    several sets of them: the orders it carries, and each with one more."""

    def __init__(
        self,
        trip: Trip,
        orders: Sequence[Order],
        start: Start,
        travel: TravelModel,
    ) -> None:
        self.trip, self.orders, self.start, self.travel = trip, list(orders), start, travel
        self.ref = start.at
        departure = 0.0
        arrival = float(minutes_after(self.ref, [trip.latest_arrival])[0])
        self.trips = Trips.from_columns(
            ids=[str(trip.id)],
            origin=[(start.lat, start.lon)],
            destination=[(trip.destination_lat, trip.destination_lon)],
            earliest_departure=[departure],
            latest_arrival=[max(arrival, departure)],  # a late route is still planned
            capacity=[trip.capacity],
        )
        self.late_start = arrival < departure
        self.requests = Requests.from_columns(
            ids=[str(o.id) for o in self.orders],
            pickup=np.array([(o.pickup_lat, o.pickup_lon) for o in self.orders]).reshape(-1, 2),
            delivery=np.array([(o.delivery_lat, o.delivery_lon) for o in self.orders]).reshape(
                -1, 2
            ),
            earliest_pickup=minutes_after(self.ref, [o.earliest_pickup for o in self.orders]),
            latest_delivery=minutes_after(self.ref, [o.latest_delivery for o in self.orders]),
            size=[units_of(o) for o in self.orders],
        )
        self.picked = [i for i, o in enumerate(self.orders) if o.status == OrderStatus.PICKED_UP]

    def route(self, members: Sequence[int], keep_times: bool = True) -> list[Stop] | None:
        """The best order of the members' stops (positions in ``orders``), or None."""
        if keep_times and self.late_start:
            return None
        on_board = [i for i in self.picked if i in set(members)]
        found = best_route_from(
            self.trips,
            self.requests,
            self.travel,
            0,
            sorted(members),
            on_board,
            keep_times=keep_times,
        )
        return None if found is None else found[0]

    def plan(self, members: Sequence[int]) -> Plan:
        """The route of these members with its times; if no order keeps every bound, the
        least-driving one (``feasible`` False, the late stops marked)."""
        stops = self.route(members)
        feasible = stops is not None
        if stops is None:
            stops = self.route(members, keep_times=False)
        if stops is None:  # more units than the capacity: no order at all
            return Plan([], False, float("nan"), float("nan"))
        return self.timed(members, stops, feasible)

    def driving(self, members: Sequence[int]) -> float | None:
        """Minutes of driving of the best feasible route, or None when none keeps the rule."""
        stops = self.route(members)
        if stops is None:
            return None
        on_board = [i for i in self.picked if i in set(members)]
        return route_times(self.trips, self.requests, self.travel, 0, stops, on_board).driving

    def timed(self, members: Sequence[int], stops: list[Stop], feasible: bool) -> Plan:
        on_board = [i for i in self.picked if i in set(members)]
        times = route_times(self.trips, self.requests, self.travel, 0, stops, on_board)
        trip, start = self.trip, self.start
        first_load = sum(units_of(self.orders[i]) for i in on_board)
        planned = [
            PlannedStop(
                "start", None, start.lat, start.lon, start.address, start.at, start.at,
                first_load, None, True,
            )
        ]  # fmt: skip
        for k, stop in enumerate(stops):
            order = self.orders[stop.request]
            pickup = stop.kind == PICKUP
            arrive = at_minutes(self.ref, times.arrival[k])
            planned.append(
                PlannedStop(
                    "pickup" if pickup else "delivery",
                    order.id,
                    order.pickup_lat if pickup else order.delivery_lat,
                    order.pickup_lon if pickup else order.delivery_lon,
                    order.pickup_address if pickup else order.delivery_address,
                    arrive,
                    at_minutes(self.ref, times.departure[k]),
                    int(times.load[k]),
                    None if pickup else order.latest_delivery,
                    pickup or arrive <= order.latest_delivery,
                )
            )
        end = at_minutes(self.ref, times.end)
        planned.append(
            PlannedStop(
                "end", None, trip.destination_lat, trip.destination_lon, trip.destination_address,
                end, end, 0, trip.latest_arrival, end <= trip.latest_arrival,
            )
        )  # fmt: skip
        return Plan(planned, feasible, times.driving, times.detour)


def plan_trip(
    trip: Trip, orders_on_trip: Sequence[Order], travel: TravelModel, now: datetime
) -> Plan:
    """The route of every order the trip carries now."""
    load = carried(orders_on_trip)
    planner = Planner(trip, load, start_of(trip, orders_on_trip, now), travel)
    return planner.plan(range(len(load)))


@dataclass(frozen=True)
class Addition:
    """An order added to a trip's route: the new route, its extra driving, the order's
    planned pickup and delivery."""

    plan: Plan
    extra_min: float
    planned_pickup: datetime
    planned_delivery: datetime


def _times_of(plan: Plan, order_id: int) -> tuple[datetime, datetime]:
    pickup = next(s.leave_at for s in plan.stops if s.kind == "pickup" and s.order_id == order_id)
    delivery = next(
        s.arrive_at for s in plan.stops if s.kind == "delivery" and s.order_id == order_id
    )
    return pickup, delivery


def add_order(
    trip: Trip,
    orders_on_trip: Sequence[Order],
    order: Order,
    travel: TravelModel,
    now: datetime,
) -> Addition:
    """The trip's route with ``order`` added to what it carries; 409 naming the reason
    (capacity, or which bound the whole route would break) when it does not fit."""
    load = carried(orders_on_trip)
    held = load_of(load)
    if held + units_of(order) > trip.capacity:
        names = ", ".join(str(o.id) for o in load)
        raise Conflict(
            f"capacity: trip {trip.id} carries {held} of its {trip.capacity} parcel units "
            f"(orders {names}); order {order.id} needs {units_of(order)} more",
            status=trip.status.value,
        )
    planner = Planner(trip, [*load, order], start_of(trip, orders_on_trip, now), travel)
    members = list(range(len(load) + 1))
    before = planner.driving(members[:-1]) if load else None
    plan = planner.plan(members)
    if not plan.feasible:
        raise Conflict(f"route: {why_late(trip, load, order, plan)}", status=trip.status.value)
    extra = plan.detour_min if before is None else plan.driving_min - before
    pickup, delivery = _times_of(plan, order.id)
    return Addition(plan, max(extra, 0.0), pickup, delivery)


def why_late(trip: Trip, load: Sequence[Order], order: Order, plan: Plan) -> str:
    """In words, which bound the best route with ``order`` breaks, with the times."""
    carrying = (
        f"with the order{'s' if len(load) > 1 else ''} it carries "
        f"({', '.join(str(o.id) for o in load)}) "
        if load
        else ""
    )
    for stop in plan.stops:
        if not stop.on_time and stop.latest is not None:
            if stop.kind == "end":
                return (
                    f"{carrying}and order {order.id}, trip {trip.id} would reach its "
                    f"destination at {stop.arrive_at:%H:%M} UTC, after its latest arrival "
                    f"{stop.latest:%H:%M}"
                )
            return (
                f"{carrying}and order {order.id}, trip {trip.id} would deliver order "
                f"{stop.order_id} at {stop.arrive_at:%H:%M} UTC, after its latest delivery "
                f"{stop.latest:%H:%M}"
            )
    return (
        f"{carrying}and order {order.id}, no order of stops of trip {trip.id} keeps every "
        "time window"
    )


def additions(
    trip: Trip,
    orders_on_trip: Sequence[Order],
    candidates: Sequence[Order],
    travel: TravelModel,
    now: datetime,
) -> list[tuple[int, Addition]]:
    """Which candidates fit the trip's whole route, each with its route (positions in
    ``candidates``); the trip's columns and its orders' are built once."""
    load = carried(orders_on_trip)
    room = trip.capacity - load_of(load)
    planner = Planner(trip, [*load, *candidates], start_of(trip, orders_on_trip, now), travel)
    base = list(range(len(load)))
    before = planner.driving(base) if load else None
    found = []
    for k, candidate in enumerate(candidates):
        if units_of(candidate) > room:
            continue
        members = [*base, len(load) + k]
        stops = planner.route(members)
        if stops is None:
            continue
        plan = planner.timed(members, stops, True)
        extra = plan.detour_min if before is None else plan.driving_min - before
        pickup, delivery = _times_of(plan, candidate.id)
        found.append((k, Addition(plan, max(extra, 0.0), pickup, delivery)))
    return found


@dataclass(frozen=True)
class Extras:
    """Per candidate pair of a batch: whether the order fits its trip's whole route, the
    route's extra driving with it, and the order's planned pickup and delivery (minutes
    after the batch's ``now``; NaN where it does not fit)."""

    fits: npt.NDArray[np.bool_]
    extra_min: npt.NDArray[np.float64]
    pickup: npt.NDArray[np.float64]
    delivery: npt.NDArray[np.float64]


def extras(
    trips: Sequence[Trip],
    on_trips: Sequence[Sequence[Order]],
    orders: Sequence[Order],
    requests: Requests,
    pair_trip: npt.NDArray[np.int64],
    pair_request: npt.NDArray[np.int64],
    travel: TravelModel,
    now: datetime,
) -> Extras:
    """:func:`additions` for a whole batch at once, without the routes' stops: for each
    pair (``pair_trip[k]`` a position in ``trips``, ``pair_request[k]`` one in
    ``orders``, which ``requests`` holds in the core's columns, minutes after ``now``),
    whether the order fits the trip's route with every order it carries (``on_trips``,
    each trip's orders), and so on. One compiled search over every pair
    (:func:`crowdship.core.routes.best_additions`), the same route rule: each route starts
    where :func:`start_of` says, parcels picked up are on board, the units fit."""
    loads = [carried(on) for on in on_trips]
    starts = [start_of(t, on, now) for t, on in zip(trips, on_trips, strict=True)]
    departure = minutes_after(now, [s.at for s in starts])
    arrival = minutes_after(now, [t.latest_arrival for t in trips])
    late_start = arrival < departure  # the route cannot keep its arrival at all
    core_t = Trips.from_columns(
        ids=[str(t.id) for t in trips],
        origin=np.array([(s.lat, s.lon) for s in starts]).reshape(-1, 2),
        destination=np.array([(t.destination_lat, t.destination_lon) for t in trips]).reshape(
            -1, 2
        ),
        earliest_departure=departure,
        latest_arrival=np.maximum(arrival, departure),
        capacity=[t.capacity for t in trips],
    )
    held = [o for load in loads for o in load]
    both = Requests.from_columns(
        ids=[*(str(o.id) for o in held), *requests.ids],
        pickup=np.vstack(
            [np.array([(o.pickup_lat, o.pickup_lon) for o in held]).reshape(-1, 2), requests.pickup]
        ),
        delivery=np.vstack(
            [
                np.array([(o.delivery_lat, o.delivery_lon) for o in held]).reshape(-1, 2),
                requests.delivery,
            ]
        ),
        earliest_pickup=np.concatenate(
            [minutes_after(now, [o.earliest_pickup for o in held]), requests.earliest_pickup]
        ),
        latest_delivery=np.concatenate(
            [minutes_after(now, [o.latest_delivery for o in held]), requests.latest_delivery]
        ),
        size=[*(units_of(o) for o in held), *(units_of(o) for o in orders)],
    )
    members, at = [], 0
    for load in loads:
        members.append(range(at, at + len(load)))
        at += len(load)
    on_board = [i for i, o in enumerate(held) if o.status == OrderStatus.PICKED_UP]
    found = best_additions(
        core_t,
        both,
        travel,
        members,
        pair_trip,
        np.asarray(pair_request, dtype=np.int64) + len(held),
        on_board,
    )
    fits = found.fits & ~late_start[pair_trip]
    return Extras(
        fits,
        np.where(fits, found.extra, np.nan),
        np.where(fits, found.pickup, np.nan),
        np.where(fits, found.delivery, np.nan),
    )


def trip_route(session: Session, context: ServiceContext, actor: Actor, trip_id: int) -> TripRoute:
    """The route of a trip for its courier or an operator (404 for anyone else's trip)."""
    actor.require(Role.COURIER, Role.OPERATOR)
    trip = trip_access.visible(session, actor, trip_id)
    on_trip = orders.on_trips(session, [trip_id])
    now = context.clock.now()
    load = carried(on_trip)
    start = start_of(trip, on_trip, now)
    plan = Planner(trip, load, start, context.travel).plan(range(len(load)))

    def minutes(value: float) -> float | None:
        return None if not np.isfinite(value) else float(value)  # the schema rounds

    return TripRoute(
        trip_id=trip.id,
        status=trip.status,
        capacity=trip.capacity,
        load=load_of(load),
        order_ids=[o.id for o in load],
        starts_from=cast(Literal["origin", "pickup", "delivery"], start.seen),
        feasible=plan.feasible,
        driving_min=minutes(plan.driving_min),
        detour_min=minutes(plan.detour_min),
        stops=[
            RouteStop(
                kind=cast(Literal["start", "pickup", "delivery", "end"], s.kind),
                order_id=s.order_id,
                lat=s.lat,
                lon=s.lon,
                address=s.address,
                arrive_at=s.arrive_at,
                leave_at=s.leave_at,
                load=s.load,
                latest=s.latest,
                on_time=s.on_time,
            )
            for s in plan.stops
        ],
    )
