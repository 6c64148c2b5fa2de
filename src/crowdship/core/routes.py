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

- :func:`best_order`: the best order (least driving) of a bundle's stops, by a depth-first
  search over orders with precedence, pruned on time, load and driving so far. Compiled;
  it works on a small matrix of minutes between the trip's ends and the bundle's points.
  :func:`best_order_from` is the same search for a route already under way (parcels on
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
from numba import njit

from crowdship.core.feasibility import NO_LIMITS, TIME_TOLERANCE, Limits
from crowdship.core.model import FloatArray, IntArray, Requests, Trips
from crowdship.core.travel import TravelModel

#: Stops of a route: a pickup or a delivery of one request.
PICKUP, DELIVERY = 0, 1
#: A bundle holds at most this many requests (8 stops: 40320 orders before pruning).
MAX_BUNDLE = 4


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


@njit(cache=True)
def best_order_from(
    dist: FloatArray,
    points: IntArray,
    earliest: FloatArray,
    latest: FloatArray,
    size: IntArray,
    departure: float,
    arrival_by: float,
    capacity: int,
    max_driving: float,
    tolerance: float,
    order: IntArray,
    start_done: int,
    start_load: int,
) -> float:
    """The least driving time over the feasible orders of a bundle's stops, or ``inf``.

    ``dist`` holds minutes between local points: 0 is the trip's origin, 1 its destination;
    member ``i`` of the bundle is picked up at point ``points[2 i]`` and delivered at
    ``points[2 i + 1]``, not before ``earliest[i]`` and by ``latest[i]``. Stop ``s`` is
    member ``s // 2``'s pickup (even) or delivery (odd). A route longer than
    ``max_driving`` (the direct trip plus the allowed detour) does not count. The best order
    found is written into ``order`` (stop numbers); ties keep the first order in
    lexicographic order of stop numbers, so the answer is deterministic.

    ``start_done`` is a bit mask of stops already made before the route starts (the
    pickups of parcels already on board) and ``start_load`` the load they put on board;
    such a route orders only the remaining stops, written into ``order[:n]`` (``n`` the
    stops left). :func:`best_order` is this search from an empty start.
    """
    n_stops = 2 * len(earliest)
    best = np.inf
    n_todo = n_stops
    for s in range(n_stops):
        if start_done & (1 << s):
            n_todo -= 1
    if n_todo == 0:
        return best
    # State per depth: the point we stand at, the time we leave it, driving so far, load,
    # and which stops are done (a bit mask); next_stop is the next stop number to try.
    at = np.zeros(n_stops + 1, np.int64)
    clock = np.zeros(n_stops + 1)
    driven = np.zeros(n_stops + 1)
    load = np.zeros(n_stops + 1, np.int64)
    done = np.zeros(n_stops + 1, np.int64)
    next_stop = np.zeros(n_stops + 1, np.int64)
    path = np.zeros(n_stops, np.int64)
    clock[0] = departure
    done[0] = start_done
    load[0] = start_load
    depth = 0
    while depth >= 0:
        if depth == n_todo:
            total = driven[depth] + dist[at[depth], 1]
            if (
                clock[depth] + dist[at[depth], 1] <= arrival_by + tolerance
                and total <= max_driving + tolerance
                and total < best
            ):
                best = total
                order[:n_todo] = path[:n_todo]
            depth -= 1
            continue
        s = next_stop[depth]
        if s >= n_stops:
            depth -= 1
            continue
        next_stop[depth] = s + 1
        bit = 1 << s
        if done[depth] & bit:
            continue
        member = s // 2
        is_delivery = s % 2 == 1
        if is_delivery and not done[depth] & (bit >> 1):
            continue  # a delivery waits for its pickup
        point = points[s]
        leg = dist[at[depth], point]
        reach = driven[depth] + leg
        if reach >= best or reach > max_driving + tolerance:
            continue  # driving only grows along a route
        when = clock[depth] + leg
        carried = load[depth]
        if is_delivery:
            if when > latest[member] + tolerance:
                continue
            carried -= size[member]
        else:
            when = max(when, earliest[member])
            carried += size[member]
            if carried > capacity:
                continue
        path[depth] = s
        depth += 1
        at[depth] = point
        clock[depth] = when
        driven[depth] = reach
        load[depth] = carried
        done[depth] = done[depth - 1] | bit
        next_stop[depth] = 0
    return best


@njit(cache=True)
def best_order(
    dist: FloatArray,
    points: IntArray,
    earliest: FloatArray,
    latest: FloatArray,
    size: IntArray,
    departure: float,
    arrival_by: float,
    capacity: int,
    max_driving: float,
    tolerance: float,
    order: IntArray,
) -> float:
    """The least driving time over the feasible orders of a bundle's stops, or ``inf``.

    ``dist`` holds minutes between local points: 0 is the trip's origin, 1 its destination;
    member ``i`` of the bundle is picked up at point ``points[2 i]`` and delivered at
    ``points[2 i + 1]``, not before ``earliest[i]`` and by ``latest[i]``. Stop ``s`` is
    member ``s // 2``'s pickup (even) or delivery (odd). A route longer than
    ``max_driving`` (the direct trip plus the allowed detour) does not count. The best order
    found is written into ``order`` (stop numbers); ties keep the first order in
    lexicographic order of stop numbers, so the answer is deterministic.
    """
    return best_order_from(
        dist,
        points,
        earliest,
        latest,
        size,
        departure,
        arrival_by,
        capacity,
        max_driving,
        tolerance,
        order,
        0,
        0,
    )


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


@njit(cache=True, inline="always")
def _pair_legs(i: int, unused: bool) -> tuple[bool, bool, bool, bool]:
    """Which legs between block point ``i`` (0 the origin, 1 the destination, then the
    members' stops) and a candidate's pickup p and delivery d a route may take, in the
    order they are laid out: i -> p, i -> d, p -> i, d -> i. Never into the origin nor out
    of the destination, never from the origin to d nor from p to the destination (p comes
    before d, d before the destination), never to or from an ``unused`` point (the pickup
    of a parcel already on board)."""
    if unused:
        return False, False, False, False
    return i != 1, i >= 2, i >= 2, i != 0


@njit(cache=True)
def _legs_to_ask(
    coords: FloatArray,
    unused: IntArray,
    base_start: IntArray,
    pair_trip: IntArray,
    first_candidate: int,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The legs :func:`_additions` needs, as the points each starts and ends at: each
    trip's block (its origin, destination and members' stops, every pair of them), then for
    each pair the legs :func:`_pair_legs` allows between the block and its candidate's
    pickup and delivery, and from that pickup to that delivery. Returns where each trip's
    and each pair's legs start, and the legs' ends."""
    n_trips, n_pairs = len(base_start) - 1, len(pair_trip)
    trip_leg = np.zeros(n_trips + 1, np.int64)
    for t in range(n_trips):
        b = base_start[t + 1] - base_start[t]
        trip_leg[t + 1] = trip_leg[t] + b * b
    pair_leg = np.zeros(n_pairs + 1, np.int64)
    pair_leg[0] = trip_leg[n_trips]
    for k in range(n_pairs):
        b0, b = base_start[pair_trip[k]], base_start[pair_trip[k] + 1] - base_start[pair_trip[k]]
        count = 1
        for i in range(b):
            to_p, to_d, from_p, from_d = _pair_legs(i, unused[b0 + i] != 0)
            count += int(to_p) + int(to_d) + int(from_p) + int(from_d)
        pair_leg[k + 1] = pair_leg[k] + count
    start = np.empty((pair_leg[n_pairs], 2))
    end = np.empty((pair_leg[n_pairs], 2))
    for t in range(n_trips):
        b0, b = base_start[t], base_start[t + 1] - base_start[t]
        at = trip_leg[t]
        for i in range(b):
            for j in range(b):
                _set_leg(start, end, at, coords, b0 + i, b0 + j)
                at += 1
    for k in range(n_pairs):
        t = pair_trip[k]
        b0, b = base_start[t], base_start[t + 1] - base_start[t]
        p, d = first_candidate + 2 * k, first_candidate + 2 * k + 1
        at = pair_leg[k]
        for i in range(b):
            to_p, to_d, from_p, from_d = _pair_legs(i, unused[b0 + i] != 0)
            if to_p:
                _set_leg(start, end, at, coords, b0 + i, p)
                at += 1
            if to_d:
                _set_leg(start, end, at, coords, b0 + i, d)
                at += 1
            if from_p:
                _set_leg(start, end, at, coords, p, b0 + i)
                at += 1
            if from_d:
                _set_leg(start, end, at, coords, d, b0 + i)
                at += 1
        _set_leg(start, end, at, coords, p, d)
    return trip_leg, pair_leg, start, end


@njit(cache=True, inline="always")
def _set_leg(
    start: FloatArray, end: FloatArray, at: int, coords: FloatArray, a: int, b: int
) -> None:
    start[at, 0], start[at, 1] = coords[a, 0], coords[a, 1]
    end[at, 0], end[at, 1] = coords[b, 0], coords[b, 1]


@njit(cache=True)
def _additions(
    legs: FloatArray,
    trip_leg: IntArray,
    pair_leg: IntArray,
    member_start: IntArray,
    member_earliest: FloatArray,
    member_latest: FloatArray,
    member_size: IntArray,
    member_on_board: IntArray,
    departure: FloatArray,
    arrival_by: FloatArray,
    capacity: IntArray,
    max_driving: FloatArray,
    pair_trip: IntArray,
    pair_earliest: FloatArray,
    pair_latest: FloatArray,
    pair_size: IntArray,
    tolerance: float,
    driving: FloatArray,
    orders: IntArray,
    pickup: FloatArray,
    delivery: FloatArray,
    base: FloatArray,
) -> None:
    """Each trip's route of its members alone, then each pair's with its candidate as
    one more member, by :func:`best_order_from` on a local matrix laid out as
    :func:`best_route_from`'s (origin, destination, member 0's pickup and delivery, ...)."""
    n_trips = len(member_start) - 1
    width = orders.shape[1]
    for t in range(n_trips):
        m0, n = member_start[t], member_start[t + 1] - member_start[t]
        b = 2 + 2 * n
        dist = legs[trip_leg[t] : trip_leg[t + 1]].reshape(b, b).copy()
        done, load = 0, 0
        for i in range(n):
            if member_on_board[m0 + i]:
                done |= 1 << (2 * i)
                load += member_size[m0 + i]
        order = np.full(max(2 * n, 1), -1, np.int64)
        if n == 0:
            base[t] = dist[0, 1]  # nothing carried: the direct drive
        elif member_size[m0 : m0 + n].sum() <= capacity[t]:  # best_route_from's rule
            base[t] = best_order_from(
                dist,
                np.arange(2, b).astype(np.int64),
                member_earliest[m0 : m0 + n].copy(),
                member_latest[m0 : m0 + n].copy(),
                member_size[m0 : m0 + n].copy(),
                departure[t],
                arrival_by[t],
                capacity[t],
                max_driving[t],
                tolerance,
                order,
                done,
                load,
            )
    # Work arrays for the largest route, reused by every pair (each pair writes every entry
    # its search reads: the block, and its candidate's legs).
    most = width // 2  # members with the candidate
    dist = np.full((2 * most + 2, 2 * most + 2), np.inf)
    points = np.arange(2, 2 * most + 2).astype(np.int64)
    earliest = np.empty(most)
    latest = np.empty(most)
    size = np.empty(most, np.int64)
    order = np.empty(2 * most, np.int64)
    for k in range(len(pair_trip)):
        t = pair_trip[k]
        m0, n = member_start[t], member_start[t + 1] - member_start[t]
        b = 2 + 2 * n
        driving[k] = np.inf
        orders[k, :] = -1
        load = pair_size[k]
        for i in range(n):
            load += member_size[m0 + i]
        if load > capacity[t]:
            continue
        at = trip_leg[t]
        for i in range(b):
            for j in range(b):
                dist[i, j] = legs[at]
                at += 1
        at = pair_leg[k]
        for i in range(b):  # in the order _legs_to_ask lays them out
            on_board = i >= 2 and i % 2 == 0 and member_on_board[m0 + (i - 2) // 2] != 0
            to_p, to_d, from_p, from_d = _pair_legs(i, on_board)
            if to_p:
                dist[i, b] = legs[at]
                at += 1
            if to_d:
                dist[i, b + 1] = legs[at]
                at += 1
            if from_p:
                dist[b, i] = legs[at]
                at += 1
            if from_d:
                dist[b + 1, i] = legs[at]
                at += 1
        dist[b, b + 1] = legs[at]
        done, load = 0, 0
        for i in range(n):
            earliest[i] = member_earliest[m0 + i]
            latest[i] = member_latest[m0 + i]
            size[i] = member_size[m0 + i]
            if member_on_board[m0 + i]:
                done |= 1 << (2 * i)
                load += member_size[m0 + i]
        earliest[n], latest[n], size[n] = pair_earliest[k], pair_latest[k], pair_size[k]
        order[:] = -1
        best = best_order_from(
            dist,
            points[: 2 * n + 2],
            earliest[: n + 1],
            latest[: n + 1],
            size[: n + 1],
            departure[t],
            arrival_by[t],
            capacity[t],
            max_driving[t],
            tolerance,
            order,
            done,
            load,
        )
        if not np.isfinite(best):
            continue
        driving[k] = best
        orders[k, : 2 * n + 2] = order[: 2 * n + 2]
        clock, here = departure[t], 0
        for s in order[: 2 * n + 2]:
            if s < 0:
                break
            point = 2 + s
            clock += dist[here, point]
            here = point
            if s % 2 == 0:
                clock = max(clock, earliest[s // 2])
                if s // 2 == n:
                    pickup[k] = clock
            elif s // 2 == n:
                delivery[k] = clock


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
