"""Routes already under way (issue 15, the service's re-planning): parcels on board from
the start keep only their deliveries, load the trip from the start, and the search is the
same as for a fresh bundle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crowdship.core.model import Requests, Trips
from crowdship.core.routes import (
    DELIVERY,
    PICKUP,
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
