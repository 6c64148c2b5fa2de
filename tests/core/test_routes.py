"""Routes with several pickups and deliveries: the best order, its times, the checker."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.feasibility import Limits, all_pairs
from crowdship.core.model import Requests, Trips
from crowdship.core.routes import (
    DELIVERY,
    PICKUP,
    Stop,
    best_route,
    route_problems,
    route_times,
)
from crowdship.core.travel import PlanarTravel

# 60 km/h and no detour factor: one minute per km, so every time below is hand-checkable.
MINUTE_PER_KM = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)


def line_trip(capacity: int = 2, latest: float = 40.0) -> Trips:
    """A trip from (0, 0) to (20, 0) leaving at 0."""
    return Trips.from_columns(["t"], [(0, 0)], [(20, 0)], [0.0], [latest], capacity=[capacity])


def as_pairs(stops: list[Stop]) -> list[tuple[int, str]]:
    return [(s.request, "pickup" if s.kind == PICKUP else "delivery") for s in stops]


def test_two_parcels_along_the_way():
    """Two requests on the trip's line are served in line order with no detour."""
    requests = Requests.from_columns(
        ["a", "b"], [(2, 0), (5, 0)], [(8, 0), (15, 0)], [0.0, 0.0], [100.0, 100.0]
    )
    found = best_route(line_trip(), requests, MINUTE_PER_KM, 0, [0, 1])
    assert found is not None
    stops, detour = found
    assert detour == pytest.approx(0.0)
    assert [(s.request, s.kind) for s in stops] == [
        (0, PICKUP),
        (1, PICKUP),
        (0, DELIVERY),
        (1, DELIVERY),
    ]
    times = route_times(line_trip(), requests, MINUTE_PER_KM, 0, stops)
    assert times.arrival.tolist() == pytest.approx([2, 5, 8, 15])
    assert times.load.tolist() == [1, 2, 1, 0]
    assert times.end == pytest.approx(20)


def test_waiting_and_deadlines_choose_the_order():
    """b may not be picked before minute 12, a must be delivered by 10: a goes first."""
    requests = Requests.from_columns(
        ["a", "b"], [(2, 0), (5, 0)], [(8, 0), (15, 0)], [0.0, 12.0], [10.0, 100.0]
    )
    found = best_route(line_trip(latest=40), requests, MINUTE_PER_KM, 0, [0, 1])
    assert found is not None
    stops, detour = found
    assert as_pairs(stops) == [(0, "pickup"), (0, "delivery"), (1, "pickup"), (1, "delivery")]
    assert detour == pytest.approx(6.0)  # back from 8 to 5 and forward again
    times = route_times(line_trip(latest=40), requests, MINUTE_PER_KM, 0, stops)
    assert times.departure[2] == pytest.approx(12.0)  # waited at b's pickup from minute 11
    assert times.end == pytest.approx(12 + 10 + 5)


def test_capacity_and_destination_bound_refuse():
    """Total size above the capacity, or a route that cannot reach D_t in time: no route."""
    requests = Requests.from_columns(
        ["a", "b"], [(2, 0), (5, 0)], [(8, 0), (15, 0)], [0.0, 0.0], [100.0, 100.0], size=[1, 2]
    )
    assert best_route(line_trip(capacity=2), requests, MINUTE_PER_KM, 0, [0, 1]) is None
    assert best_route(line_trip(capacity=3), requests, MINUTE_PER_KM, 0, [0, 1]) is not None
    assert best_route(line_trip(capacity=3, latest=19.5), requests, MINUTE_PER_KM, 0, [0]) is None


def test_detour_limit_applies_to_the_route():
    """A hard detour limit counts the whole route's extra minutes."""
    requests = Requests.from_columns(
        ["a", "b"], [(2, 0), (5, 0)], [(8, 0), (15, 0)], [0.0, 12.0], [10.0, 100.0]
    )
    trip = line_trip(latest=60)
    assert (
        best_route(trip, requests, MINUTE_PER_KM, 0, [0, 1], Limits(max_detour_min=6)) is not None
    )
    assert best_route(trip, requests, MINUTE_PER_KM, 0, [0, 1], Limits(max_detour_min=5.9)) is None


@pytest.mark.parametrize(
    ("stops", "problem"),
    [
        ([(0, "delivery"), (0, "pickup")], "delivered before it is picked up"),
        ([(0, "pickup")], "never delivered"),
        ([(0, "pickup"), (1, "pickup"), (0, "delivery"), (1, "delivery")], "above capacity"),
        ([(2, "pickup"), (2, "delivery")], "after its latest delivery"),
        ([(0, "pickup"), (0, "delivery"), (0, "pickup"), (0, "delivery")], "picked up twice"),
        ([(0, "pickup"), (0, "jump")], "neither pickup nor delivery"),
    ],
)
def test_checker_names_what_is_wrong(stops, problem):
    """The independent checker finds each kind of broken route."""
    requests = Requests.from_columns(
        ["a", "b", "c"],
        [(2, 0), (5, 0), (30, 0)],
        [(8, 0), (15, 0), (31, 0)],
        [0.0, 0.0, 0.0],
        [100.0, 100.0, 20.0],
    )
    problems = route_problems(line_trip(capacity=1, latest=200), requests, MINUTE_PER_KM, 0, stops)
    assert any(problem in p for p in problems), problems


def test_checker_sees_late_arrival():
    """Reaching the destination after LA_t is reported."""
    requests = Requests.from_columns(["a"], [(2, 5)], [(8, 5)], [0.0], [100.0])
    problems = route_problems(
        line_trip(latest=21), requests, MINUTE_PER_KM, 0, [(0, "pickup"), (0, "delivery")]
    )
    assert any("after its latest arrival" in p for p in problems)


def random_instance(seed: int, n_requests: int, capacity: int) -> tuple[Trips, Requests]:
    rng = np.random.default_rng(seed)
    trips = Trips.from_columns(
        ["t"],
        rng.uniform(0, 10, (1, 2)),
        rng.uniform(0, 10, (1, 2)),
        [0.0],
        [rng.uniform(20, 60)],
        capacity=[capacity],
    )
    earliest = rng.uniform(0, 20, n_requests)
    requests = Requests.from_columns(
        [f"r{j}" for j in range(n_requests)],
        rng.uniform(0, 10, (n_requests, 2)),
        rng.uniform(0, 10, (n_requests, 2)),
        earliest,
        earliest + rng.uniform(5, 60, n_requests),
        size=rng.integers(1, 3, n_requests),
    )
    return trips, requests


def brute_force_route(trips: Trips, requests: Requests, members: list[int]) -> float | None:
    """Least driving over every order of the stops that the checker accepts."""
    best = None
    stops = [(r, kind) for r in members for kind in ("pickup", "delivery")]
    for order in itertools.permutations(stops):
        route = list(order)
        if route_problems(trips, requests, MINUTE_PER_KM, 0, route):
            continue
        points = [trips.origin[0]]
        for r, kind in route:
            points.append(requests.pickup[r] if kind == "pickup" else requests.delivery[r])
        points.append(trips.destination[0])
        driving = sum(float(np.hypot(*(points[i + 1] - points[i]))) for i in range(len(points) - 1))
        best = driving if best is None else min(best, driving)
    return best


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3), capacity=st.integers(1, 4))
def test_best_route_equals_brute_force(seed, n, capacity):
    """The pruned search finds the least driving of every valid order (or none exists)."""
    trips, requests = random_instance(seed, n, capacity)
    members = list(range(n))
    found = best_route(trips, requests, MINUTE_PER_KM, 0, members)
    brute = brute_force_route(trips, requests, members)
    if int(requests.size.sum()) > capacity:
        assert found is None
        return
    if brute is None:
        assert found is None
        return
    assert found is not None
    stops, detour = found
    assert route_problems(trips, requests, MINUTE_PER_KM, 0, as_pairs(stops)) == []
    direct = float(np.hypot(*(trips.destination[0] - trips.origin[0])))
    assert detour == pytest.approx(max(brute - direct, 0.0), abs=1e-6)


def test_one_request_is_todays_rule():
    """For one request the route rule is the pair rule: same feasibility, same detour."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        trips, requests = random_instance(int(rng.integers(1_000_000)), 8, 1)
        pairs = all_pairs(trips, requests, MINUTE_PER_KM)
        by_request = dict(zip(pairs.request.tolist(), pairs.detour.tolist(), strict=True))
        for j in range(len(requests)):
            found = best_route(trips, requests, MINUTE_PER_KM, 0, [j])
            fits = int(requests.size[j]) <= 1
            assert (found is not None) == (j in by_request and fits)
            if found is not None:
                assert found[1] == pytest.approx(by_request[j], abs=1e-9)
