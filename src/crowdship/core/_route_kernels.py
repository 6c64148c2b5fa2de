"""Compiled loops (numba) of the routes and bundles: the best order of a bundle's stops,
the batched additions to routes under way, and the growth of a trip's bundles.

Kept apart from :mod:`crowdship.core.routes` and :mod:`crowdship.core.bundles` so that
importing those (as every ``crowdship match`` process does) does not import numba: only
trips that carry several parcels need these loops, and the one-parcel match path runs
compiled Cython instead (``_planar.pyx``, ``_paths.pyx``, ``_certify.pyx``), where numba's
import and first call would be about 0.4 s of every process.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from crowdship.core.model import FloatArray, IntArray
from crowdship.core.routes import KEY_BITS


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


@njit(cache=True)
def _grow(
    dist: FloatArray,
    earliest: FloatArray,
    latest: FloatArray,
    size: IntArray,
    departure: float,
    arrival_by: float,
    capacity: int,
    max_driving: float,
    tolerance: float,
    previous: IntArray,
    previous_keys: IntArray,
    first_row: int,
    last_row: int,
    out_members: IntArray,
    out_driving: FloatArray,
    out_order: IntArray,
) -> int:
    """Bundles of ``k + 1`` of one trip's ``m`` singles from its feasible ``k``-bundles
    (``previous``, rows sorted, lexicographic; ``previous_keys`` their sorted keys). Writes
    the feasible ones grown from rows ``first_row`` to ``last_row`` and returns how many."""
    m = len(earliest)
    n_prev, k = previous.shape
    found = 0
    members = np.zeros(k + 1, np.int64)
    points = np.zeros(2 * (k + 1), np.int64)
    order = np.zeros(2 * (k + 1), np.int64)
    sub_e = np.zeros(k + 1)
    sub_l = np.zeros(k + 1)
    sub_s = np.zeros(k + 1, np.int64)
    for row in range(first_row, last_row):
        base_size = 0
        for x in range(k):
            members[x] = previous[row, x]
            base_size += size[previous[row, x]]
        for j in range(previous[row, k - 1] + 1, m):
            if base_size + size[j] > capacity:
                continue
            members[k] = j
            # Every k-subset that drops one of the first k members must be feasible.
            ok = True
            for drop in range(k):
                key = 0
                for x in range(k + 1):
                    if x != drop:
                        key = (key << KEY_BITS) | members[x]
                at = np.searchsorted(previous_keys, key)
                if at >= n_prev or previous_keys[at] != key:
                    ok = False
                    break
            if not ok:
                continue
            for x in range(k + 1):
                i = members[x]
                points[2 * x] = 2 + 2 * i
                points[2 * x + 1] = 3 + 2 * i
                sub_e[x] = earliest[i]
                sub_l[x] = latest[i]
                sub_s[x] = size[i]
            driving = best_order(
                dist,
                points,
                sub_e,
                sub_l,
                sub_s,
                departure,
                arrival_by,
                capacity,
                max_driving,
                tolerance,
                order,
            )
            if driving < np.inf:
                out_members[found, : k + 1] = members
                out_driving[found] = driving
                out_order[found, : 2 * (k + 1)] = order
                found += 1
    return found
