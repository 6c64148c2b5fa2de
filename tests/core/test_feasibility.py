"""The time-feasibility rule, its edge cases, and the index that must never drop a pair."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crowdship.core.feasibility import NO_LIMITS, Limits, all_pairs, feasible_pairs, schedule
from crowdship.core.travel import GreatCircleTravel, PlanarTravel
from tests.conftest import make_requests, make_trips, random_instance

TRIP = ("t", (0.0, 0.0), (10.0, 0.0), 0.0, 12.0)


def pairs_of(trips, requests, travel, limits=NO_LIMITS):
    found = feasible_pairs(trips, requests, travel, limits=limits)
    return {(trips.ids[t], requests.ids[r]) for t, r in zip(found.trip, found.request, strict=True)}


def test_on_the_way_request_has_no_detour(minute_per_km):
    """A request lying on the trip's line costs no detour and gets the expected times."""
    trips = make_trips([TRIP])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, 100.0)])
    found = feasible_pairs(trips, requests, minute_per_km)
    assert len(found) == 1
    assert found.detour[0] == pytest.approx(0.0)
    times = schedule(trips, requests, minute_per_km, found.trip, found.request)
    assert times.pickup_time[0] == pytest.approx(2.0)
    assert times.delivery_time[0] == pytest.approx(5.0)
    assert times.arrival_time[0] == pytest.approx(10.0)


def test_waiting_at_pickup_counts_against_the_trip(minute_per_km):
    """Arriving early, the courier waits until ED_r; the wait can break LA_t."""
    trips = make_trips([TRIP, ("t_exact", (0.0, 0.0), (10.0, 0.0), 0.0, 13.0)])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 5.0, 100.0)])
    # Waits 3 minutes: pickup 5, delivery 8, arrival 13.
    assert pairs_of(trips, requests, minute_per_km) == {("t_exact", "r")}
    found = feasible_pairs(trips, requests, minute_per_km)
    times = schedule(trips, requests, minute_per_km, found.trip, found.request)
    assert times.pickup_time[0] == pytest.approx(5.0)
    assert times.arrival_time[0] == pytest.approx(13.0)


@pytest.mark.parametrize(("latest_delivery", "feasible"), [(5.0, True), (4.999, False)])
def test_latest_delivery_met_exactly_is_feasible(minute_per_km, latest_delivery, feasible):
    """Delivery exactly at LA_r is allowed; a moment earlier deadline is not."""
    trips = make_trips([TRIP])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, latest_delivery)])
    assert bool(pairs_of(trips, requests, minute_per_km)) is feasible


@pytest.mark.parametrize(
    ("latest_arrival", "feasible"), [(6 * 2**0.5 + 4, True), (6 * 2**0.5 + 4 - 0.001, False)]
)
def test_detour_must_fit_the_trips_deadline(minute_per_km, latest_arrival, feasible):
    """Off the line, the detour d(O_t,O_r)+d(O_r,D_r)+d(D_r,D_t)-d(O_t,D_t) must fit LA_t."""
    trips = make_trips([("t", (0.0, 0.0), (10.0, 0.0), 0.0, latest_arrival)])
    requests = make_requests([("r", (3.0, 3.0), (7.0, 3.0), 0.0, 100.0)])
    # 3*sqrt(2) + 4 + 3*sqrt(2) = 12.485 minutes of driving: met exactly, or missed.
    assert bool(pairs_of(trips, requests, minute_per_km)) is feasible


def test_trip_departure_after_request_deadline_is_infeasible(minute_per_km):
    """A trip leaving after the parcel is due cannot take it."""
    trips = make_trips([("late", (0.0, 0.0), (10.0, 0.0), 50.0, 70.0)])
    requests = make_requests([("r", (2.0, 0.0), (5.0, 0.0), 0.0, 40.0)])
    assert pairs_of(trips, requests, minute_per_km) == set()


def test_request_too_long_for_its_own_window_is_never_feasible(minute_per_km):
    """A request that cannot be driven within its own window matches nothing."""
    trips = make_trips([("t", (0.0, 0.0), (10.0, 0.0), 0.0, 100.0)])
    requests = make_requests([("r", (0.0, 0.0), (10.0, 0.0), 0.0, 9.0)])
    assert pairs_of(trips, requests, minute_per_km) == set()


def test_hard_detour_limits(minute_per_km):
    """max_detour_min and max_detour_fraction drop pairs whose detour exceeds them."""
    trips = make_trips([("t", (0.0, 0.0), (10.0, 0.0), 0.0, 100.0)])
    requests = make_requests([("r", (5.0, 3.0), (6.0, 3.0), 0.0, 100.0)])
    detour = feasible_pairs(trips, requests, minute_per_km).detour[0]
    assert detour > 0
    assert pairs_of(trips, requests, minute_per_km, Limits(max_detour_min=detour + 0.01))
    assert not pairs_of(trips, requests, minute_per_km, Limits(max_detour_min=detour - 0.01))
    assert not pairs_of(
        trips, requests, minute_per_km, Limits(max_detour_fraction=(detour - 0.01) / 10)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_detour_min": -1}, "max detour must be >= 0"), ({"max_detour_fraction": -0.1}, ">= 0")],
)
def test_bad_limits_are_refused(kwargs, message):
    """Negative limits raise a clear error."""
    with pytest.raises(ValueError, match=message):
        Limits(**kwargs)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_trips=st.integers(0, 40),
    n_requests=st.integers(0, 40),
    city=st.sampled_from([2.0, 10.0, 60.0]),
    limit=st.sampled_from([None, 3.0]),
)
def test_index_finds_exactly_the_pairs_of_the_all_pairs_check(
    seed, n_trips, n_requests, city, limit
):
    """The grid index never drops a feasible pair and adds none (planar, any city size)."""
    trips, requests = random_instance(np.random.default_rng(seed), n_trips, n_requests, city)
    travel = PlanarTravel(speed_kmh=40.0, detour_factor=1.2)
    limits = Limits(max_detour_min=limit)
    reference = all_pairs(trips, requests, travel, limits=limits)
    expected = set(zip(reference.trip.tolist(), reference.request.tolist(), strict=True))
    found = feasible_pairs(trips, requests, travel, limits=limits)
    assert set(zip(found.trip.tolist(), found.request.tolist(), strict=True)) == expected
    assert len(found) == len(expected)
    # The index computes the detours itself (planar legs are exact): they are the rule's.
    mine = np.lexsort((found.request, found.trip))
    theirs = np.lexsort((reference.request, reference.trip))
    np.testing.assert_allclose(found.detour[mine], reference.detour[theirs], atol=1e-9)


def _around_helsinki(rng: np.random.Generator, n: int, spread: float) -> tuple[Any, Any]:
    """A random instance in lat/lon: ``spread`` degrees around central Helsinki, with
    windows three times as long as ``random_instance``'s so that many pairs fit."""
    trips, requests = random_instance(rng, n, n, 1.0)
    centre = np.array([60.17, 24.94])
    trips = type(trips).from_columns(
        trips.ids,
        centre + (trips.origin - 0.5) * spread,
        centre + (trips.destination - 0.5) * spread,
        trips.earliest_departure,
        trips.latest_arrival * 3,
    )
    requests = type(requests).from_columns(
        requests.ids,
        centre + (requests.pickup - 0.5) * spread,
        centre + (requests.delivery - 0.5) * spread,
        requests.earliest_pickup,
        requests.latest_delivery * 3,
    )
    return trips, requests


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spread=st.sampled_from([0.02, 0.3, 3.0]))
def test_index_matches_all_pairs_on_the_sphere(seed, spread):
    """Great-circle travel: the chord lower bound keeps every feasible pair."""
    trips, requests = _around_helsinki(np.random.default_rng(seed), 30, spread)
    travel = GreatCircleTravel()
    reference = all_pairs(trips, requests, travel)
    found = feasible_pairs(trips, requests, travel)
    assert set(zip(found.trip.tolist(), found.request.tolist(), strict=True)) == set(
        zip(reference.trip.tolist(), reference.request.tolist(), strict=True)
    )
    np.testing.assert_allclose(np.sort(found.detour), np.sort(reference.detour), atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    spread=st.sampled_from([0.02, 0.3, 3.0]),
    max_detour=st.sampled_from([None, 5.0]),
)
def test_compiled_great_circle_rule_equals_numpy(seed, spread, max_detour):
    """The compiled haversine rule keeps exactly the pairs of the rule with the travel
    model's own NumPy minutes, with the same detours."""
    from crowdship.core.feasibility import DirectTimes, check_pairs, evaluate

    trips, requests = _around_helsinki(np.random.default_rng(seed), 40, spread)
    travel = GreatCircleTravel()
    limits = Limits(max_detour_min=max_detour)
    direct = DirectTimes.of(trips, requests, travel)
    ti, ri = (a.ravel().astype(np.int64) for a in np.meshgrid(range(40), range(40), indexing="ij"))
    found = check_pairs(trips, requests, travel, direct, ti, ri, limits)
    to_pickup = travel.pairwise(trips.origin[ti], requests.pickup[ri])
    from_delivery = travel.pairwise(requests.delivery[ri], trips.destination[ti])
    ok, detour, *_ = evaluate(trips, requests, direct, ti, ri, to_pickup, from_delivery)
    ok &= detour <= limits.allowed_detour(direct.trip)[ti] + 1e-6
    assert found.trip.tolist() == ti[ok].tolist()
    assert found.request.tolist() == ri[ok].tolist()
    np.testing.assert_allclose(found.detour, np.maximum(detour[ok], 0.0), rtol=0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    flexibility=st.sampled_from([0.0, 1e-9, 0.01, 0.3, 2.0]),
    city=st.sampled_from([1.0, 10.0, 200.0]),
)
def test_ellipse_cells_keep_pairs_on_the_boundary(seed, flexibility, city):
    """Trips with no or little slack (thin or degenerate ellipses, some of zero length) and
    requests lying on the trips' own routes, so many pairs are feasible with nothing to
    spare: the planar index, which reads only cells under each ellipse, keeps them all."""
    rng = np.random.default_rng(seed)
    n = 30
    origin = rng.uniform(0, city, (n, 2))
    destination = rng.uniform(0, city, (n, 2))
    destination[:5] = origin[:5]  # zero-length trips
    travel = PlanarTravel(speed_kmh=60.0, detour_factor=1.0)
    direct = travel.pairwise(origin, destination)
    trips = make_trips(
        [
            (f"t{i}", tuple(origin[i]), tuple(destination[i]), 0.0, direct[i] * (1 + flexibility))
            for i in range(n)
        ]
    )
    on_route = rng.integers(0, n, n)
    s = np.sort(rng.uniform(0, 1, (n, 2)), axis=1)
    pickup = origin[on_route] + s[:, :1] * (destination[on_route] - origin[on_route])
    delivery = origin[on_route] + s[:, 1:] * (destination[on_route] - origin[on_route])
    random_half = rng.uniform(0, 1, n) < 0.5
    pickup[random_half] = rng.uniform(0, city, (int(random_half.sum()), 2))
    requests = make_requests(
        [(f"r{j}", tuple(pickup[j]), tuple(delivery[j]), 0.0, 10_000.0) for j in range(n)]
    )
    reference = all_pairs(trips, requests, travel)
    found = feasible_pairs(trips, requests, travel)
    assert set(zip(found.trip.tolist(), found.request.tolist(), strict=True)) == set(
        zip(reference.trip.tolist(), reference.request.tolist(), strict=True)
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    crowd=st.sampled_from(["pickup", "delivery", "both", "none"]),
    sphere=st.booleans(),
)
def test_index_keeps_every_pair_on_crowded_days(seed, crowd, sphere):
    """Many trips and requests, so the grid has many cells and each pickup cell limits
    where deliveries are read; pickups or deliveries crowd around a few points (pickup
    cells with tight boxes, deliveries all in a few cells), planar and great-circle: the
    index finds exactly the pairs of the all-pairs check, with the same detours."""
    rng = np.random.default_rng(seed)
    trips, requests = random_instance(rng, 300, 200, 30.0)
    points = rng.uniform(5, 25, (3, 2))
    around = points[rng.integers(0, 3, 200)] + rng.normal(0, 0.3, (200, 2))
    pickup = around if crowd in ("pickup", "both") else requests.pickup
    delivery = around[::-1] if crowd in ("delivery", "both") else requests.delivery
    travel: Any = PlanarTravel(speed_kmh=40.0, detour_factor=1.2)
    if sphere:  # the same day over Helsinki, 30 km square in degrees
        travel = GreatCircleTravel(speed_kmh=40.0, detour_factor=1.2)
        degrees = np.array([1 / 111.0, 1 / 55.5])
        base = np.array([60.0, 24.6])
        trips = type(trips).from_columns(
            trips.ids,
            base + trips.origin * degrees,
            base + trips.destination * degrees,
            trips.earliest_departure,
            trips.latest_arrival,
        )
        pickup, delivery = base + pickup * degrees, base + delivery * degrees
    requests = type(requests).from_columns(
        requests.ids,
        pickup,
        delivery,
        requests.earliest_pickup,
        requests.latest_delivery + 60.0,
    )
    reference = all_pairs(trips, requests, travel)
    found = feasible_pairs(trips, requests, travel)
    assert len(reference) > 0
    mine = np.lexsort((found.request, found.trip))
    theirs = np.lexsort((reference.request, reference.trip))
    assert found.trip[mine].tolist() == reference.trip[theirs].tolist()
    assert found.request[mine].tolist() == reference.request[theirs].tolist()
    np.testing.assert_allclose(found.detour[mine], reference.detour[theirs], rtol=0, atol=1e-9)


@pytest.mark.parametrize("max_detour", [None, 5.0])
def test_great_circle_slots_come_out_full(max_detour):
    """The counting pass counts each trip's pairs exactly (no slot left to close up), on a
    day with pairs at every distance from the chord rule's edge."""
    from crowdship.core import feasibility

    trips, requests = _around_helsinki(np.random.default_rng(7), 400, 0.3)
    closed = []
    real = feasibility.compact_pairs

    def spy(*args: Any) -> None:
        closed.append(True)
        real(*args)

    feasibility.compact_pairs = spy
    try:
        found = feasible_pairs(trips, requests, GreatCircleTravel(), limits=Limits(max_detour))
    finally:
        feasibility.compact_pairs = real
    assert len(found) > 1000 and not closed
    reference = all_pairs(trips, requests, GreatCircleTravel(), limits=Limits(max_detour))
    assert set(zip(found.trip.tolist(), found.request.tolist(), strict=True)) == set(
        zip(reference.trip.tolist(), reference.request.tolist(), strict=True)
    )
