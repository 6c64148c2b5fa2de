"""Routes: one trip serving several requests, with pickups and deliveries in an order.

The rule (DESIGN.md, issue 15): a route is the trip's origin, its stops in an order (each
request's pickup before its delivery) and the trip's destination. The courier leaves
``O_t`` at ``ED_t`` and drives from stop to stop, waiting at a pickup until ``ED_r`` if
early; every delivery is made by ``LA_r``, the destination reached by ``LA_t``, and the
load never exceeds the trip's capacity. The route's detour is its driving time minus the
direct trip's (waiting is not driving). For one request this is exactly the rule of
:mod:`crowdship.core.feasibility`, and leaving later still never helps, so evaluating an
order from ``ED_t`` with waits is exact.

A trip's capacity bounds the total size of the requests it serves (so capacity 1 is
today's one-parcel rule, and the load bound holds at every stop of every order); the
checker still checks the load, stop by stop.

Three pieces:

- ``best_order``: the best order (least driving) of a bundle's stops, by a depth-first
  search over orders with precedence, pruned on time, load and driving so far. Compiled
  (numba, in :mod:`crowdship.core._route_kernels`, imported only when a route is asked
  for); it works on a small matrix of minutes between the trip's ends and the bundle's
  points. ``best_order_from`` is the same search for a route already under way (parcels on
  board from the start, only their deliveries left), which :func:`best_route_from` (the
  order service's re-planning) calls.
- :func:`route_times`: the rule's times for a given order, with the travel model's legs.
- :func:`route_problems`: an independent checker, written from the rule alone (plain
  Python, one leg at a time), that the tests run on every route the matcher produces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crowdship.core.feasibility import NO_LIMITS, TIME_TOLERANCE, Limits
from crowdship.core.model import FloatArray, IntArray, Requests, Trips
from crowdship.core.travel import TravelModel

#: Stops of a route: a pickup or a delivery of one request.
PICKUP, DELIVERY = 0, 1
#: A bundle holds at most this many requests (8 stops: 40320 orders before pruning).
MAX_BUNDLE = 4
#: Bits per local request number in a bundle's key (a trip may have up to 32767 singles).
KEY_BITS = 15


@dataclass(frozen=True)
class Stop:
    """One stop of a route: ``request`` (a position in the requests) and what happens."""

    request: int
    kind: int  # PICKUP or DELIVERY


@dataclass(frozen=True)
class RouteTimes:
    """A route's times: when the courier reaches each stop, when it leaves it (after any
    wait), the load after it, the arrival at the destination, and the route's detour."""

    arrival: FloatArray
    departure: FloatArray
    load: IntArray
    end: float
    driving: float
    detour: float


def local_points(
    trips: Trips, requests: Requests, trip: int, members: Sequence[int] | IntArray
) -> tuple[FloatArray, IntArray]:
    """The trip's ends and the members' pickups and deliveries as one point list, and the
    point of each stop (``points[2 i]`` pickup, ``points[2 i + 1]`` delivery of member i)."""
    index = np.asarray(members, dtype=np.int64)
    coords = np.vstack(
        (
            trips.origin[trip : trip + 1],
            trips.destination[trip : trip + 1],
            np.column_stack((requests.pickup[index], requests.delivery[index])).reshape(-1, 2),
        )
    )
    return coords, np.arange(2, 2 + 2 * len(index), dtype=np.int64)


def best_route(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    trip: int,
    members: Sequence[int],
    limits: Limits = NO_LIMITS,
) -> tuple[list[Stop], float] | None:
    """The best route (least driving) of ``trip`` serving ``members``, as stops and detour
    minutes, or None when no order keeps every bound (nor fits the capacity)."""
    from crowdship.core._route_kernels import best_order  # numba: only routes need it

    index = np.asarray(members, dtype=np.int64)
    if int(requests.size[index].sum()) > int(trips.capacity[trip]):
        return None
    coords, points = local_points(trips, requests, trip, index)
    dist = np.ascontiguousarray(travel.matrix(coords, coords), dtype=np.float64)
    direct = float(dist[0, 1])
    allowed = float(limits.allowed_detour(np.array([direct]))[0])
    order = np.zeros(2 * len(index), np.int64)
    driving = best_order(
        dist,
        points,
        requests.earliest_pickup[index],
        requests.latest_delivery[index],
        requests.size[index],
        float(trips.earliest_departure[trip]),
        float(trips.latest_arrival[trip]),
        int(trips.capacity[trip]),
        direct + allowed,
        TIME_TOLERANCE,
        order,
    )
    if not np.isfinite(driving):
        return None
    stops = [Stop(int(index[s // 2]), int(s % 2)) for s in order]
    return stops, max(driving - direct, 0.0)


def best_route_from(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    trip: int,
    members: Sequence[int],
    on_board: Sequence[int] = (),
    limits: Limits = NO_LIMITS,
    keep_times: bool = True,
) -> tuple[list[Stop], float] | None:
    """:func:`best_route` for a route already under way: ``on_board`` (some of
    ``members``) were picked up before it starts, so their parcels load the trip from its
    origin (which the caller sets to where and when the route starts) and only their
    deliveries are stops. The same search (:func:`best_order_from`) and the same capacity
    rule: the members' total size fits the capacity. With ``keep_times`` False the time
    bounds are left out (precedence and load only): the least-driving order of a route that
    is already late. The stops and the detour, or None."""
    from crowdship.core._route_kernels import best_order_from

    index = np.asarray(members, dtype=np.int64)
    if len(index) == 0:
        return [], 0.0
    if int(requests.size[index].sum()) > int(trips.capacity[trip]):
        return None
    position = {int(r): i for i, r in enumerate(index)}
    start_done, start_load = 0, 0
    for request in on_board:
        i = position[int(request)]
        start_done |= 1 << (2 * i)
        start_load += int(requests.size[request])
    coords, points = local_points(trips, requests, trip, index)
    dist = np.ascontiguousarray(travel.matrix(coords, coords), dtype=np.float64)
    direct = float(dist[0, 1])
    allowed = float(limits.allowed_detour(np.array([direct]))[0]) if keep_times else np.inf
    latest = requests.latest_delivery[index] if keep_times else np.full(len(index), np.inf)
    order = np.full(2 * len(index), -1, np.int64)
    driving = best_order_from(
        dist,
        points,
        requests.earliest_pickup[index],
        np.ascontiguousarray(latest, dtype=np.float64),
        requests.size[index],
        float(trips.earliest_departure[trip]),
        float(trips.latest_arrival[trip]) if keep_times else np.inf,
        int(trips.capacity[trip]),
        direct + allowed,
        TIME_TOLERANCE,
        order,
        start_done,
        start_load,
    )
    if not np.isfinite(driving):
        return None
    stops = [Stop(int(index[s // 2]), int(s % 2)) for s in order if s >= 0]
    return stops, max(driving - direct, 0.0)


@dataclass(frozen=True)
class Additions:
    """Each candidate pair's best route, by :func:`best_additions`.

    Per pair: ``driving``, the least driving of a route serving what the trip carries and
    the candidate (``inf`` when no order of stops keeps the rule), ``order``, its stops
    (stop ``s`` is member ``s // 2``'s pickup (even) or delivery (odd), the candidate being
    the last member; ``-1`` pads, and the on-board pickups are left out), ``pickup``, when
    the courier leaves the candidate's pickup (after any wait), and ``delivery``, when it
    reaches the candidate's delivery. Per trip: ``base``, the least driving of what it
    carries alone (``inf`` when none keeps the rule; the direct drive when it carries
    nothing), and ``direct``, its direct drive."""

    driving: FloatArray
    order: IntArray
    pickup: FloatArray
    delivery: FloatArray
    base: FloatArray
    direct: FloatArray
    pair_trip: IntArray

    @property
    def fits(self) -> npt.NDArray[np.bool_]:
        return np.isfinite(self.driving)

    @property
    def extra(self) -> FloatArray:
        """The route's extra driving with the candidate (what it adds to the best route of
        what the trip carries; its detour when that route keeps no rule), at least 0."""
        base = self.base[self.pair_trip]
        before = np.where(np.isfinite(base), base, self.direct[self.pair_trip])
        return np.maximum(self.driving - before, 0.0)


def best_additions(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    members: Sequence[Sequence[int]],
    pair_trip: IntArray,
    pair_request: IntArray,
    on_board: Sequence[int] = (),
    limits: Limits = NO_LIMITS,
) -> Additions:
    """Many candidates at once for trips already carrying requests: for each pair
    ``(pair_trip[k], pair_request[k])``, the best route of the trip serving its
    ``members`` (requests, in this order) and the candidate, the same answer as
    :func:`best_route_from` with ``[*members[t], candidate]`` (its search, on the same
    matrix layout; only the legs come from the travel model's ``pairwise``, not its
    ``matrix``). ``on_board`` requests (some members) were picked up before the route
    starts. Every trip's members alone are searched too (``base``). One compiled call;
    the travel model is asked once for every leg any of the routes may take."""
    from crowdship.core._route_kernels import _additions, _legs_to_ask

    pair_trip = np.asarray(pair_trip, dtype=np.int64)
    pair_request = np.asarray(pair_request, dtype=np.int64)
    if len(members) != len(trips):
        raise ValueError(f"members: one list per trip ({len(trips)}), got {len(members)}")
    counts = np.array([len(m) for m in members], dtype=np.int64)
    member_start = np.zeros(len(trips) + 1, np.int64)
    np.cumsum(counts, out=member_start[1:])
    member = np.fromiter((r for m in members for r in m), np.int64, int(member_start[-1]))
    boarded = np.zeros(len(requests), np.int64)
    boarded[np.asarray(on_board, dtype=np.int64)] = 1
    # Points: each trip's block (origin, destination, its members' pickups and
    # deliveries), then each pair's candidate pickup and delivery.
    block = 2 + 2 * counts
    base_start = np.zeros(len(trips) + 1, np.int64)
    np.cumsum(block, out=base_start[1:])
    coords = np.empty((int(base_start[-1]) + 2 * len(pair_trip), 2))
    ends = base_start[:-1]
    coords[ends] = trips.origin
    coords[ends + 1] = trips.destination
    rank = np.arange(len(member)) - np.repeat(member_start[:-1], counts)
    stops = np.repeat(ends + 2, counts) + 2 * rank
    coords[stops] = requests.pickup[member]
    coords[stops + 1] = requests.delivery[member]
    first = int(base_start[-1])
    coords[first::2] = requests.pickup[pair_request]
    coords[first + 1 :: 2] = requests.delivery[pair_request]
    unused = np.zeros(len(coords), np.int64)  # the pickups of parcels already on board
    unused[stops[boarded[member] != 0]] = 1
    trip_leg, pair_leg, start, end = _legs_to_ask(coords, unused, base_start, pair_trip, first)
    legs = np.ascontiguousarray(travel.pairwise(start, end), dtype=np.float64)
    direct = legs[trip_leg[:-1] + 1] if len(trips) else np.zeros(0)
    max_driving = direct + limits.allowed_detour(direct)
    width = 2 * (int(counts.max(initial=0)) + 1)
    driving = np.full(len(pair_trip), np.inf)
    order = np.full((len(pair_trip), width), -1, np.int64)
    pickup = np.full(len(pair_trip), np.nan)
    delivery = np.full(len(pair_trip), np.nan)
    base = np.full(len(trips), np.inf)
    _additions(
        legs,
        trip_leg,
        pair_leg,
        member_start,
        np.ascontiguousarray(requests.earliest_pickup[member], dtype=np.float64),
        np.ascontiguousarray(requests.latest_delivery[member], dtype=np.float64),
        np.ascontiguousarray(requests.size[member], dtype=np.int64),
        boarded[member],
        np.ascontiguousarray(trips.earliest_departure, dtype=np.float64),
        np.ascontiguousarray(trips.latest_arrival, dtype=np.float64),
        np.ascontiguousarray(trips.capacity, dtype=np.int64),
        np.ascontiguousarray(max_driving, dtype=np.float64),
        pair_trip,
        np.ascontiguousarray(requests.earliest_pickup[pair_request], dtype=np.float64),
        np.ascontiguousarray(requests.latest_delivery[pair_request], dtype=np.float64),
        np.ascontiguousarray(requests.size[pair_request], dtype=np.int64),
        TIME_TOLERANCE,
        driving,
        order,
        pickup,
        delivery,
        base,
    )
    return Additions(driving, order, pickup, delivery, base, direct, pair_trip)


def route_times(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    trip: int,
    stops: Sequence[Stop],
    on_board: Sequence[int] = (),
) -> RouteTimes:
    """The rule's times along ``stops`` (assumed a valid order), legs from the travel model;
    ``on_board`` requests are carried from the start (only their deliveries are stops)."""
    coords = np.vstack(
        (
            trips.origin[trip : trip + 1],
            np.array(
                [
                    requests.pickup[s.request] if s.kind == PICKUP else requests.delivery[s.request]
                    for s in stops
                ]
            ).reshape(-1, 2),
            trips.destination[trip : trip + 1],
        )
    )
    legs = travel.pairwise(coords[:-1], coords[1:])
    n = len(stops)
    arrival, departure = np.zeros(n), np.zeros(n)
    load = np.zeros(n, np.int64)
    clock = float(trips.earliest_departure[trip])
    carried = sum(int(requests.size[r]) for r in on_board)
    for k, stop in enumerate(stops):
        clock += float(legs[k])
        arrival[k] = clock
        if stop.kind == PICKUP:
            clock = max(clock, float(requests.earliest_pickup[stop.request]))
            carried += int(requests.size[stop.request])
        else:
            carried -= int(requests.size[stop.request])
        departure[k] = clock
        load[k] = carried
    end = clock + float(legs[n])
    driving = float(legs.sum())
    direct = float(
        travel.pairwise(trips.origin[trip : trip + 1], trips.destination[trip : trip + 1])[0]
    )
    return RouteTimes(arrival, departure, load, end, driving, max(driving - direct, 0.0))


def route_problems(
    trips: Trips,
    requests: Requests,
    travel: TravelModel,
    trip: int,
    stops: Sequence[tuple[int, str]],
    limits: Limits = NO_LIMITS,
    tolerance: float = 1e-6,
) -> list[str]:
    """Everything wrong with a route, in words (empty when it keeps the rule).

    Written from the rule alone, apart from the search and the matcher, so the tests can
    re-check every route those produce: ``stops`` are ``(request position, "pickup" |
    "delivery")`` in driving order; each leg is asked of the travel model on its own.
    """
    problems: list[str] = []
    seen_pickup: set[int] = set()
    seen_delivery: set[int] = set()
    here = (float(trips.origin[trip][0]), float(trips.origin[trip][1]))
    clock = float(trips.earliest_departure[trip])
    driving = 0.0
    load = 0
    capacity = int(trips.capacity[trip])
    for request, kind in stops:
        rid = requests.ids[request]
        if kind == "pickup":
            if request in seen_pickup:
                problems.append(f"request {rid} is picked up twice")
            seen_pickup.add(request)
            there = (float(requests.pickup[request][0]), float(requests.pickup[request][1]))
        elif kind == "delivery":
            if request not in seen_pickup:
                problems.append(f"request {rid} is delivered before it is picked up")
            if request in seen_delivery:
                problems.append(f"request {rid} is delivered twice")
            seen_delivery.add(request)
            there = (float(requests.delivery[request][0]), float(requests.delivery[request][1]))
        else:
            problems.append(f"stop kind {kind!r} is neither pickup nor delivery")
            continue
        leg = travel.minutes(here, there)
        driving += leg
        clock += leg
        here = there
        if kind == "pickup":
            if clock < float(requests.earliest_pickup[request]):
                clock = float(requests.earliest_pickup[request])  # the courier waits
            load += int(requests.size[request])
            if load > capacity:
                problems.append(f"load {load} is above capacity {capacity} after picking {rid}")
        else:
            load -= int(requests.size[request])
            if clock > float(requests.latest_delivery[request]) + tolerance:
                problems.append(
                    f"request {rid} is delivered at {clock:.3f}, after its latest delivery "
                    f"{float(requests.latest_delivery[request]):.3f}"
                )
    for request in seen_pickup - seen_delivery:
        problems.append(f"request {requests.ids[request]} is picked up and never delivered")
    end = (float(trips.destination[trip][0]), float(trips.destination[trip][1]))
    leg = travel.minutes(here, end)
    driving += leg
    clock += leg
    if clock > float(trips.latest_arrival[trip]) + tolerance:
        problems.append(
            f"trip {trips.ids[trip]} arrives at {clock:.3f}, after its latest arrival "
            f"{float(trips.latest_arrival[trip]):.3f}"
        )
    origin = (float(trips.origin[trip][0]), float(trips.origin[trip][1]))
    direct = travel.minutes(origin, end)
    allowed = float(limits.allowed_detour(np.array([direct]))[0])
    if driving - direct > allowed + tolerance:
        problems.append(f"detour {driving - direct:.3f} min is above the limit {allowed:.3f}")
    return problems
