"""Routes already under way (issue 15, the service's re-planning): parcels on board from
the start keep only their deliveries, load the trip from the start, and the search is the
same as for a fresh bundle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.model import Requests, Trips
from crowdship.core.routes import (
    DELIVERY,
    PICKUP,
    Stop,
    best_additions,
    best_route,
    best_route_from,
    route_problems,
    route_times,
)
from crowdship.core.travel import PlanarTravel

MINUTE_PER_KM = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)


def line_trip(capacity: int = 2, latest: float = 40.0) -> Trips:
    return Trips.from_columns(["t"], [(0, 0)], [(20, 0)], [0.0], [latest], capacity=[capacity])


def test_from_an_empty_start_it_is_best_route():
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = 3
        pickup = rng.uniform(0, 20, (n, 2))
        delivery = rng.uniform(0, 20, (n, 2))
        requests = Requests.from_columns(
            ["a", "b", "c"], pickup, delivery, rng.uniform(0, 10, n), rng.uniform(40, 90, n)
        )
        trips = line_trip(capacity=3, latest=120.0)
        assert best_route_from(trips, requests, MINUTE_PER_KM, 0, [0, 1, 2]) == best_route(
            trips, requests, MINUTE_PER_KM, 0, [0, 1, 2]
        )


def test_a_parcel_on_board_is_only_delivered_and_loads_from_the_start():
    requests = Requests.from_columns(
        ["a", "b"], [(2, 0), (5, 0)], [(8, 0), (15, 0)], [0.0, 0.0], [100.0, 100.0]
    )
    found = best_route_from(line_trip(), requests, MINUTE_PER_KM, 0, [0, 1], on_board=[0])
    assert found is not None
    stops, detour = found
    assert [(s.request, s.kind) for s in stops] == [(1, PICKUP), (0, DELIVERY), (1, DELIVERY)]
    assert detour == pytest.approx(0.0)
    times = route_times(line_trip(), requests, MINUTE_PER_KM, 0, stops, on_board=[0])
    assert times.load.tolist() == [2, 1, 0]
    assert times.arrival.tolist() == pytest.approx([5, 8, 15])
    # Capacity 1: the parcel on board leaves no room for b until a is delivered, and b's
    # pickup lies before a's delivery on the line, so the route turns back.
    trip = line_trip(capacity=1, latest=60.0)
    assert best_route_from(trip, requests, MINUTE_PER_KM, 0, [0, 1], on_board=[0]) is None


def test_on_board_orders_brute_force():
    """The best order over every order of the stops left equals a brute force, checked by
    the independent checker with the on-board pickups put first at the origin."""
    rng = np.random.default_rng(11)
    for _ in range(40):
        n = 3
        requests = Requests.from_columns(
            ["a", "b", "c"],
            np.vstack([[0.0, 0.0], rng.uniform(0, 20, (n - 1, 2))]),  # a was picked at 0
            rng.uniform(0, 20, (n, 2)),
            [0.0, *rng.uniform(0, 20, n - 1)],
            rng.uniform(30, 80, n),
        )
        trips = line_trip(capacity=3, latest=90.0)
        found = best_route_from(trips, requests, MINUTE_PER_KM, 0, [0, 1, 2], on_board=[0])
        best = np.inf
        stops_left = [(0, "delivery"), (1, "pickup"), (1, "delivery"), (2, "pickup")]
        stops_left.append((2, "delivery"))
        for order in itertools.permutations(stops_left):
            route = [(0, "pickup"), *order]
            if route_problems(trips, requests, MINUTE_PER_KM, 0, route):
                continue
            here, driving = (0.0, 0.0), 0.0
            for r, kind in order:
                there = tuple(requests.pickup[r] if kind == "pickup" else requests.delivery[r])
                driving += MINUTE_PER_KM.minutes(here, there)
                here = there
            best = min(best, driving + MINUTE_PER_KM.minutes(here, (20.0, 0.0)))
        if found is None:
            assert best == np.inf
        else:
            assert found[1] == pytest.approx(best - 20.0, abs=1e-6)
            route = [(0, "pickup")] + [
                (s.request, "pickup" if s.kind == PICKUP else "delivery") for s in found[0]
            ]
            assert route_problems(trips, requests, MINUTE_PER_KM, 0, route) == []


def test_without_time_bounds_a_late_route_still_has_an_order():
    requests = Requests.from_columns(["a"], [(2, 0)], [(8, 0)], [0.0], [5.0])
    assert best_route_from(line_trip(), requests, MINUTE_PER_KM, 0, [0]) is None
    found = best_route_from(line_trip(), requests, MINUTE_PER_KM, 0, [0], keep_times=False)
    assert found is not None
    assert [(s.request, s.kind) for s in found[0]] == [(0, PICKUP), (0, DELIVERY)]


def batch_instance(
    seed: int, n_trips: int, grid: bool
) -> tuple[Trips, Requests, list[list[int]], list[int], np.ndarray, np.ndarray]:
    """Trips carrying 0 to 3 requests each (some on board), and candidate pairs with
    requests they do not carry. ``grid``: points on a 4 x 4 km grid of whole km, so that
    many orders of stops tie."""
    rng = np.random.default_rng(seed)
    n_requests = 4 * n_trips + 6

    def points(n: int) -> np.ndarray:
        return rng.integers(0, 5, (n, 2)).astype(float) if grid else rng.uniform(0, 20, (n, 2))

    trips = Trips.from_columns(
        [f"t{i}" for i in range(n_trips)],
        points(n_trips),
        points(n_trips),
        rng.uniform(0, 10, n_trips),
        rng.uniform(50, 140, n_trips),
        capacity=rng.integers(1, 5, n_trips),
    )
    earliest = rng.uniform(0, 40, n_requests)
    requests = Requests.from_columns(
        [f"r{j}" for j in range(n_requests)],
        points(n_requests),
        points(n_requests),
        earliest,
        earliest + rng.uniform(10, 100, n_requests),
        size=rng.choice([1, 1, 1, 2], n_requests),
    )
    order = rng.permutation(n_requests)
    members: list[list[int]] = []
    at = 0
    for _ in range(n_trips):
        count = int(rng.integers(0, 4))
        members.append(sorted(int(r) for r in order[at : at + count]))
        at += count
    on_board = [r for m in members for r in m if rng.random() < 0.4]
    pair_trip, pair_request = [], []
    for i in range(n_trips):
        for r in rng.choice(order[at:], size=min(6, n_requests - at), replace=False):
            pair_trip.append(i)
            pair_request.append(int(r))
    return (
        trips,
        requests,
        members,
        on_board,
        np.array(pair_trip, dtype=np.int64),
        np.array(pair_request, dtype=np.int64),
    )


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), n_trips=st.integers(1, 4), grid=st.booleans())
def test_batched_additions_equal_best_route_from_per_candidate(seed, n_trips, grid):
    """Every pair's answer from the one compiled call equals best_route_from's with the
    candidate as one more member: whether a route fits, its driving, the candidate's
    planned pickup and delivery (route_times on that route), and the route keeps the rule
    (the independent checker). Where several orders tie, either is the answer."""
    trips, requests, members, on_board, pair_trip, pair_request = batch_instance(
        seed, n_trips, grid
    )
    found = best_additions(
        trips, requests, MINUTE_PER_KM, members, pair_trip, pair_request, on_board
    )
    for t in range(len(trips)):
        board = [r for r in members[t] if r in on_board]
        alone = best_route_from(trips, requests, MINUTE_PER_KM, t, members[t], board)
        direct = MINUTE_PER_KM.minutes(tuple(trips.origin[t]), tuple(trips.destination[t]))
        if not members[t]:
            assert found.base[t] == pytest.approx(direct, abs=1e-9)
        elif alone is None:
            assert found.base[t] == np.inf
        else:
            driving = route_times(trips, requests, MINUTE_PER_KM, t, alone[0], board).driving
            assert found.base[t] == pytest.approx(driving, abs=1e-9)
    for k, (t, r) in enumerate(zip(pair_trip.tolist(), pair_request.tolist(), strict=True)):
        board = [m for m in members[t] if m in on_board]
        both = [*members[t], r]
        expected = best_route_from(trips, requests, MINUTE_PER_KM, t, both, board)
        assert bool(found.fits[k]) == (expected is not None), (k, t, r)
        if expected is None:
            continue
        times = route_times(trips, requests, MINUTE_PER_KM, t, expected[0], board)
        assert found.driving[k] == pytest.approx(times.driving, abs=1e-9)
        # The batched route itself: valid, and the times are those along it.
        stops = [Stop(both[s // 2], s % 2) for s in found.order[k].tolist() if s >= 0]
        route = [(m, "pickup") for m in board] + [
            (s.request, "pickup" if s.kind == PICKUP else "delivery") for s in stops
        ]
        # The checker starts empty: the parcels on board are picked up at the origin.
        pickups = requests.pickup.copy()
        pickups[board] = trips.origin[t]
        earliest = requests.earliest_pickup.copy()
        earliest[board] = trips.earliest_departure[t]
        moved = Requests.from_columns(
            requests.ids,
            pickups,
            requests.delivery,
            earliest,
            requests.latest_delivery,
            size=requests.size,
        )
        assert route_problems(trips, moved, MINUTE_PER_KM, t, route) == []
        along = route_times(trips, requests, MINUTE_PER_KM, t, stops, board)
        assert along.driving == pytest.approx(times.driving, abs=1e-9)
        pickup = next(i for i, s in enumerate(stops) if s.request == r and s.kind == PICKUP)
        delivery = next(i for i, s in enumerate(stops) if s.request == r and s.kind == DELIVERY)
        assert found.pickup[k] == pytest.approx(along.departure[pickup], abs=1e-9)
        assert found.delivery[k] == pytest.approx(along.arrival[delivery], abs=1e-9)
        before = (
            found.base[t] if np.isfinite(found.base[t]) else direct
        )  # nothing carried, or a route already late: the detour
        assert found.extra[k] == pytest.approx(max(times.driving - before, 0.0), abs=1e-9)
